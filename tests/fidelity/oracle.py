"""A driver for `../shared/tools/lucene-oracle/`: what real Lucene matches for a `query_string`.

One Java process is kept running and fed one JSON line per question (its README has the
protocol). Questions are written from a thread while answers are read, so that thousands of
them can be pipelined without either pipe filling up.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Document = Mapping[str, Any]


@dataclass(frozen=True)
class Answer:
    """Lucene's verdict on one query over a list of documents."""

    parse_error: str | None
    matches: frozenset[int]
    #: how long Lucene took to parse and run the query over the documents
    ms: int = 0


@dataclass(frozen=True)
class Question:
    query: str
    docs: Sequence[Document]
    ignore_above: int = 256


class OracleUnavailable(Exception):
    """Java, javac or Debian's Lucene jars are missing (the message says which)."""


def classpath(tool_dir: Path) -> str:
    """Compile the oracle once (cached by build.sh) and return its class path."""
    if shutil.which("java") is None:
        raise OracleUnavailable("no java (apt-get install default-jdk-headless liblucene8-java)")
    done = subprocess.run(
        ["bash", str(tool_dir / "build.sh")], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise OracleUnavailable(done.stderr.strip() or "lucene-oracle's build.sh failed")
    return done.stdout.strip()


class LuceneOracle:
    """A running oracle process; use as a context manager or call `close()`."""

    def __init__(self, tool_dir: Path) -> None:
        self._process = subprocess.Popen(
            ["java", "-cp", classpath(tool_dir), "LuceneOracle"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )

    def __enter__(self) -> LuceneOracle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        self._process.wait(timeout=30)

    def match(self, query: str, docs: Sequence[Document], ignore_above: int = 256) -> Answer:
        """The documents (by index) that `query` matches, or its parse error."""
        (answer,) = self.match_many([Question(query, docs, ignore_above)])  # read to the end
        return answer

    def match_many(self, questions: Iterable[Question]) -> Iterator[Answer]:
        """Answers in the order of the questions, pipelined through one process.

        `questions` is read on a thread as Lucene answers, so a generator that renders them
        runs while Lucene works on the ones already sent. Read the answers to the end: the
        last line the process answers is an end mark, not a question's.
        """
        stdin, stdout = self._process.stdin, self._process.stdout
        assert stdin is not None and stdout is not None
        writer = _Writer(stdin, questions)
        writer.start()
        answered = 0
        while True:
            line = stdout.readline()
            if not line:
                raise RuntimeError("lucene-oracle ended before answering every question")
            if writer.done.is_set() and answered == writer.total:
                break  # the end mark's answer
            raw = json.loads(line)
            answered += 1
            yield Answer(raw["parse_error"], frozenset(raw["matches"]), int(raw.get("ms", 0)))
        writer.join()
        if writer.failed is not None:
            raise writer.failed


#: asked after the last question: its answer tells the reader that no more will come.
_END_MARK = json.dumps({"query": "*:*", "docs": []}) + "\n"


class _Writer(threading.Thread):
    """Writes questions as they come; `total` is final once `done` is set, before the mark."""

    def __init__(self, stdin: Any, questions: Iterable[Question]) -> None:
        super().__init__(daemon=True)
        self.stdin = stdin
        self.questions = questions
        self.total = 0
        self.done = threading.Event()
        self.failed: BaseException | None = None

    def run(self) -> None:
        try:
            for question in self.questions:
                line: dict[str, Any] = {"query": question.query, "docs": list(question.docs)}
                if question.ignore_above != 256:
                    line["ignore_above"] = question.ignore_above
                self.stdin.write(json.dumps(line) + "\n")
                self.stdin.flush()
                self.total += 1
        except BaseException as err:  # re-raised by the reader, after the end mark
            self.failed = err
        finally:
            self.done.set()
            self.stdin.write(_END_MARK)
            self.stdin.flush()
