"""SigmaHQ's regression data: real Windows events each rule must fire on.

`../shared/corpus/sigmahq-regression/` (its README describes it) keeps, per rule, an ``info.yml``
and the events as ``evtx_dump -o json`` printed them. Events are flattened as a pipeline without
ECS would index them: the ``EventData`` (or ``UserData``) children at the top level, and
``EventID``, ``Channel`` and ``Provider`` from ``System``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

_TEST_PATH = re.compile(r"^regression_tests_path:\s*(\S+)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class RegressionCase:
    """One rule and the events it must fire on."""

    rule: Path  # the rule file in ../shared/corpus/sigmahq/
    rule_id: str
    title: str
    events: tuple[dict[str, Any], ...]
    #: how many of the events the rule must match; None: at least one.
    match_count: int | None


def flatten(event: Mapping[str, Any]) -> dict[str, Any]:
    """One ``evtx_dump`` event as an index without ECS renaming holds it."""
    body = event["Event"]
    system = body.get("System") or {}
    flat: dict[str, Any] = {}
    data = body.get("EventData")
    if data is None and isinstance(body.get("UserData"), Mapping):
        # UserData wraps its fields in one element named after the event's schema.
        inner = list(body["UserData"].values())
        data = inner[0] if len(inner) == 1 and isinstance(inner[0], Mapping) else None
    for name, value in (data or {}).items():
        if not name.startswith("#") and value is not None:
            flat[name] = value
    if "EventID" in system:
        event_id = system["EventID"]
        flat["EventID"] = event_id.get("#text") if isinstance(event_id, Mapping) else event_id
    if "Channel" in system:
        flat["Channel"] = system["Channel"]
    provider = (system.get("Provider") or {}).get("#attributes", {}).get("Name")
    if provider is not None:
        flat["Provider"] = provider
    return flat


def read_events(path: Path) -> list[dict[str, Any]]:
    """The JSON objects in an ``evtx_dump`` file (one after another, not an array), flattened."""
    text = path.read_text(encoding="utf-8")
    decoder = json.JSONDecoder()
    events: list[dict[str, Any]] = []
    at = 0
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        if at >= len(text):
            return events
        raw, at = decoder.raw_decode(text, at)
        events.append(flatten(raw))


def rules_with_tests(sigmahq: Path) -> dict[str, Path]:
    """``regression_tests_path`` (relative to SigmaHQ's root) → the rule file naming it."""
    found: dict[str, Path] = {}
    for rule in sorted(sigmahq.glob("rules*/**/*.yml")):
        match = _TEST_PATH.search(rule.read_text(encoding="utf-8"))
        if match is not None:
            found[match.group(1)] = rule
    return found


def load_cases(corpus: Path) -> Iterator[RegressionCase]:
    """Every case of the subset in `corpus` (``../shared/corpus``), sorted by rule path."""
    regression = corpus / "sigmahq-regression"
    rules = rules_with_tests(corpus / "sigmahq")
    cases = []
    for test_path, rule in rules.items():
        info_file = regression / test_path
        if not info_file.is_file():
            continue  # this rule's test is not in the subset
        info = yaml.safe_load(info_file.read_text(encoding="utf-8"))
        metadata = info["rule_metadata"][0]
        events: list[dict[str, Any]] = []
        match_count: int | None = None
        for test in info["regression_tests_info"]:
            evtx = Path(test["path"])
            events.extend(read_events(regression / evtx.with_suffix(".json")))
            if "match_count" in test:
                match_count = (match_count or 0) + int(test["match_count"])
        cases.append(
            RegressionCase(
                rule, str(metadata["id"]), str(metadata["title"]), tuple(events), match_count
            )
        )
    yield from sorted(cases, key=lambda case: case.rule)
