"""The checks every part of an environment file goes through, with errors at the right line.

`Ctx` knows where each key of the merged data is written; the checkers take it, the key path
(`Key`) and the raw value, and return the value checked (or raise `ConfigError` at that key).
Every message starts with the dotted key, so a reader finds it in the file.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from watchmgr.errors import ConfigError, SourceLocation
from watchmgr.settings import WATCHER_INTERVAL

Key = tuple[str | int, ...]
Locations = dict[Key, SourceLocation]

#: Key names that would hold a secret. `*_env` keys name variables and are fine.
_SECRET_KEY = re.compile(
    r"password|passwd|passphrase|^pass$|secret|token|api_?key|private_?key|credential"
    r"|(?:^|_)auth(?:orization)?(?:$|_)",
    re.I,
)
#: Values that are secrets whatever key they sit under (scheme prefixes, well-known formats).
_SECRET_VALUE = re.compile(
    r"^(?:(?:Bearer|ApiKey|Basic)\s+\S{8,}"
    r"|eyJ[\w-]{8,}\.[\w-]{8,}\.?[\w-]*"  # a JWT
    r"|gh[pousr]_[A-Za-z0-9]{20,}"  # GitHub tokens
    r"|xox[abposr]-[\w-]{10,}"  # Slack tokens
    r"|AKIA[0-9A-Z]{16}"  # AWS access key ids
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----.*)$",
    re.S,
)
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_URL = re.compile(r"^(https?)://([^/?#\s]+)(/[^\s?#]*)?(\?[^\s#]*)?$")
_SECRET_QUERY = re.compile(r"(?:^|[?&])[^=&]*(?:token|key|secret|pass|sig|auth)[^=&]*=", re.I)
_TIME_VALUE = re.compile(r"^(0|[0-9]+(?:\.[0-9]+)?(?:ms|s|m|h|d|w))$", re.I)
_DATE_MATH = re.compile(r"^now(?:[+-][0-9]+[yMwdhHms])*(?:/[yMwdhHms])?$")
#: An index name or pattern as Elasticsearch accepts it.
INDEX_NAME = re.compile(r"^-?[^\s,\"\\/|?<>#:]+$")


def kind(value: Any) -> str:
    """How `value` reads in a message ("a list", "null", ...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


class Ctx:
    """Where each key of the merged data is written, and error constructors that use it."""

    def __init__(self, locations: Locations, fallback: SourceLocation) -> None:
        self.locations = locations
        self.fallback = fallback

    def at(self, key: Key) -> SourceLocation:
        for end in range(len(key), 0, -1):
            found = self.locations.get(key[:end])
            if found is not None:
                return found
        return self.fallback

    def error(self, key: Key, message: str) -> ConfigError:
        return ConfigError(message, self.at(key))


def dotted(key: Key) -> str:
    """`key` as written in messages: ``watch.actions.send_email``, ``overrides[0]``."""
    out = ""
    for part in key:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "the file"


def mapping(ctx: Ctx, key: Key, value: Any, allowed: tuple[str, ...]) -> dict[str, Any]:
    """`value` as a mapping whose keys are all in `allowed` (None: empty)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ctx.error(key, f"{dotted(key)} must be a mapping, not {kind(value)}")
    for name in value:
        if name in allowed:
            continue
        where = f" in {dotted(key)}" if key else ""
        if _SECRET_KEY.search(str(name)) and not str(name).endswith("_env"):
            raise ctx.error(
                (*key, name),
                f"{dotted((*key, name))} would put a secret in the file: keep it in an "
                "environment variable and name the variable (e.g. "
                f"'{_secret_env_key(str(name))}: WATCHMGR_PROD_SECRET')",
            )
        close = difflib.get_close_matches(str(name), allowed, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else f"valid keys: {', '.join(allowed)}"
        raise ctx.error((*key, name), f"unknown key {name!r}{where} ({hint})")
    return {k: v for k, v in value.items() if v is not None}


def _secret_env_key(name: str) -> str:
    lowered = name.lower()
    if "pass" in lowered:
        return "password_env"
    if "token" in lowered or "bearer" in lowered:
        return "bearer_token_env"
    return "api_key_env"


def text(ctx: Ctx, key: Key, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        got = "empty text" if isinstance(value, str) else kind(value)
        raise ctx.error(key, f"{dotted(key)} must be non-empty text, not {got}")
    if _SECRET_VALUE.match(value.strip()):
        raise ctx.error(
            key,
            f"{dotted(key)} holds what looks like a secret: keep secrets out of the file "
            "(environment files are committed and shown by 'config show')",
        )
    return value


def texts(ctx: Ctx, key: Key, value: Any, *, single: bool = False) -> tuple[str, ...]:
    """A list of non-empty strings; with `single`, one string is taken as a list of one."""
    if single and isinstance(value, str):
        return (text(ctx, key, value),)
    if not isinstance(value, list):
        wanted = "text or a list of text" if single else "a list"
        raise ctx.error(key, f"{dotted(key)} must be {wanted}, not {kind(value)}")
    return tuple(text(ctx, (*key, i), item) for i, item in enumerate(value))


def boolean(ctx: Ctx, key: Key, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ctx.error(key, f"{dotted(key)} must be true or false, not {kind(value)}")
    return value


def choice(ctx: Ctx, key: Key, value: Any, choices: tuple[str, ...]) -> str:
    given = text(ctx, key, value)
    if given.lower() in choices:
        return given.lower()
    close = difflib.get_close_matches(given.lower(), choices, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ctx.error(key, f"{dotted(key)} {given!r} is not one of {', '.join(choices)}{hint}")


def interval(ctx: Ctx, key: Key, value: Any) -> str:
    written = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else None
    match = WATCHER_INTERVAL.match(written) if written is not None else None
    if match is None or int(match.group(1)) == 0:
        shown = repr(value) if isinstance(value, str) else kind(value)
        raise ctx.error(
            key,
            f"{dotted(key)} {shown} is not a Watcher interval: a whole number and one of the "
            "units s, m, h, d, w (like 30m; at least 1s)",
        )
    return match.group(0)


def time_value(ctx: Ctx, key: Key, value: Any) -> str:
    return matching(
        ctx,
        key,
        value,
        _TIME_VALUE,
        "is not a duration: a number and one of the units ms, s, m, h, d, w (like 1h)",
    )


def date_math(ctx: Ctx, key: Key, value: Any) -> str:
    return matching(
        ctx,
        key,
        value,
        _DATE_MATH,
        "is not Elasticsearch date math like 'now-30m/m' "
        "(now, minus a whole number and a unit y M w d h m s, optional /unit rounding)",
    )


def matching(ctx: Ctx, key: Key, value: Any, pattern: re.Pattern[str], problem: str) -> str:
    """`value` if it is text that `pattern` matches, else an error saying it `problem`."""
    if not isinstance(value, str) or not pattern.match(value):
        shown = repr(value) if isinstance(value, str) else kind(value)
        raise ctx.error(key, f"{dotted(key)} {shown} {problem}")
    return value


def url(ctx: Ctx, key: Key, value: Any) -> str:
    given = text(ctx, key, value)
    match = _URL.match(given)
    if match is None:
        raise ctx.error(key, f"{dotted(key)} must be an http:// or https:// URL")
    if "@" in match.group(2):
        raise ctx.error(
            key,
            f"{dotted(key)} has credentials in the URL: keep secrets out of the file "
            "(use api_key_env, username_env + password_env or bearer_token_env)",
        )
    if match.group(4) and _SECRET_QUERY.search(match.group(4)):
        raise ctx.error(key, f"{dotted(key)} carries what looks like a secret in its query string")
    return given


def env_name(ctx: Ctx, key: Key, value: Any) -> str:
    if not isinstance(value, str) or not _ENV_NAME.match(value):
        # Never echo the value: it may be the secret itself, pasted in by mistake.
        raise ctx.error(
            key,
            f"{dotted(key)} must name an environment variable (upper case, digits and _, "
            f"like WATCHMGR_PROD_API_KEY), not hold the secret itself",
        )
    return value
