"""With `mapping.keyword_suffix: ""` on ECS-typed explicit mappings, watches fire as rules say.

ECS types the fields a Sigma rule names as `keyword` (with `ignore_above: 1024`), `wildcard`
(command lines, script text), `ip` and `long`, and an environment for such indices renders with
`mapping.keyword_suffix: ""`: the default dialect's regexes go on the field itself, numbers are
plain terms and a CIDR is the network term. The sandbox, with those mappings, judges each query
that names only mapped fields, of every SigmaHQ process-creation and network-connection rule,
over the events generated from its rule (`events.py`): every positive and every case variant
must match. Real Lucene (the oracle) does not model explicit mappings, so this is the sandbox's
reading of ES's documented field types (tests/sandbox/test_sandbox_mappings.py has one row per
behaviour), not a verdict of Lucene's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.fidelity.events import CannotGenerate, generate
from tests.fidelity.measure import corpus_rules
from watchmgr import query as query_module
from watchmgr.errors import RuleError
from watchmgr.sandbox.mapping import IndexMapping
from watchmgr.sandbox.query import compile_query
from watchmgr.sandbox.querystring import Node, parse_query_string

pytestmark = pytest.mark.slow

_KEYWORD = {"type": "keyword", "ignore_above": 1024}
_WILDCARD = {"type": "wildcard"}
#: Sysmon's field names (as SigmaHQ writes them) with the types ECS gives their ECS fields.
ECS_TYPES: dict[str, dict[str, Any]] = {
    **dict.fromkeys(
        (
            "Image",
            "ParentImage",
            "OriginalFileName",
            "User",
            "IntegrityLevel",
            "CurrentDirectory",
            "Product",
            "Company",
            "Description",
            "Hashes",
            "DestinationHostname",
            "SourceHostname",
            "Protocol",
        ),
        _KEYWORD,
    ),
    "CommandLine": _WILDCARD,
    "ParentCommandLine": _WILDCARD,
    "DestinationIp": {"type": "ip"},
    "SourceIp": {"type": "ip"},
    "DestinationPort": {"type": "long"},
    "SourcePort": {"type": "long"},
    "EventID": {"type": "long"},
}
FOLDERS = ("rules/windows/process_creation", "rules/windows/network_connection")


def _fields(node: Node, out: set[str]) -> set[str]:
    if node.field is not None:
        out.add(node.field)
    for _, clause in node.clauses:
        _fields(clause, out)
    return out


def test_ecs_typed_fields_fire_on_positives_and_case_variants(shared: Path) -> None:
    mapping = IndexMapping({"properties": ECS_TYPES})
    judged = documents = 0
    missed: list[str] = []
    for folder in FOLDERS:
        for rule in corpus_rules(shared / "corpus" / "sigmahq" / folder):
            for condition in rule.conditions:
                try:
                    text = query_module.render(rule, condition, "sigma", "").text
                except RuleError:
                    continue
                fields = _fields(parse_query_string(text), set())
                if not fields or not fields <= ECS_TYPES.keys():
                    continue
                try:
                    events = generate(rule, condition)
                except CannotGenerate:
                    continue
                search = compile_query({"query_string": {"query": text}}, mapping)
                judged += 1
                for doc in (*events.positives, *events.case_variants):
                    documents += 1
                    if not search(doc):
                        missed.append(f"{rule.path}: misses {doc} with {text[:300]}")
    print(f"\nECS mapping: {documents - len(missed)}/{documents} events of {judged} queries fire")
    assert judged > 1000
    assert missed == [], missed[:20]
