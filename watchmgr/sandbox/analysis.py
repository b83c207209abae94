"""ES's `standard` analyzer: Lucene's StandardTokenizer (UAX#29 words), lower-cased, no stop words.

Word boundaries come from the `regex` module's Unicode default word boundaries (`(?w)\\b`),
which are UAX#29's; of the segments between them Lucene keeps those holding a letter, a
digit, an ideograph, kana or an emoji, and joins runs of South-East Asian scripts (Thai, Lao,
Khmer, Myanmar) that it leaves to a dictionary. Tokens are cut at 255 characters
(`max_token_length`). Lower-casing is Java's, one code point at a time.
"""

from __future__ import annotations

from functools import lru_cache

import regex

MAX_TOKEN_LENGTH = 255

_BOUNDARY = regex.compile(r"(?w)\b")
_WORDLIKE = regex.compile(
    r"[\p{WB=ALetter}\p{WB=Hebrew_Letter}\p{WB=Numeric}\p{WB=Katakana}"
    r"\p{Ideographic}\p{Script=Hiragana}\p{Extended_Pictographic}\p{Line_Break=SA}]"
)
_SOUTH_EAST_ASIAN = regex.compile(r"\p{Line_Break=SA}+")


def lowercase(text: str) -> str:
    """Lower-case as Java's `Character.toLowerCase` does, code point by code point."""
    lowered = text.lower()
    if len(lowered) == len(text) and "\u03a3" not in text:
        return lowered
    # Python's lower() is contextual (final sigma) and maps U+0130 to two code points
    return "".join("i" if ch == "\u0130" else ch.lower() for ch in text)


@lru_cache(maxsize=65536)
def analyze(text: str) -> tuple[str, ...]:
    """The tokens of `text`, in order; their positions are their indexes."""
    words: list[str] = []
    joinable = False  # the previous kept segment is South-East Asian and directly before
    for segment in _BOUNDARY.split(text):
        if not segment:
            continue
        if not _WORDLIKE.search(segment):
            joinable = False
            continue
        south_east_asian = _SOUTH_EAST_ASIAN.fullmatch(segment) is not None
        if south_east_asian and joinable:
            words[-1] += segment
        else:
            words.append(segment)
        joinable = south_east_asian
    tokens: list[str] = []
    for word in words:
        lowered = lowercase(word)
        while len(lowered) > MAX_TOKEN_LENGTH:
            tokens.append(lowered[:MAX_TOKEN_LENGTH])
            lowered = lowered[MAX_TOKEN_LENGTH:]
        tokens.append(lowered)
    return tuple(tokens)


def utf16_length(text: str) -> int:
    """Java's `String.length()`, which `ignore_above` compares against."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)
