"""Events generated from a rule say what Sigma means: the reference the fidelity figures rest on."""

from __future__ import annotations

import re
import textwrap

import pytest

from tests.fidelity.events import RuleEvents, example_of, generate
from watchmgr.rules import load_text


def events_of(detection: str) -> RuleEvents:
    text = "title: t\nlogsource: {product: windows}\ndetection:\n" + textwrap.indent(
        textwrap.dedent(detection), "    "
    )
    rules, diagnostics = load_text(text.encode(), "rules/t.yml")
    assert not diagnostics and len(rules) == 1, diagnostics
    return generate(rules[0], rules[0].conditions[0])


def test_contains_gives_the_value_alone_and_inside_a_longer_one_in_any_case() -> None:
    events = events_of("sel:\n    Image|contains: 'MeteTool'\ncondition: sel\n")
    assert {"Image": "MeteTool"} in events.positives
    assert {"Image": "zqMeteToolzq"} in events.positives
    assert {"Image": "METETOOL"} in events.case_variants
    assert {"Image": "mETEtOOL"} in events.case_variants
    assert {"Image": "Metekool"} in events.negatives
    assert {} not in events.negatives  # an empty document tells nothing


def test_a_cased_value_has_no_case_variants_and_its_upper_case_is_a_negative() -> None:
    events = events_of("sel:\n    Image|cased: 'Admin'\ncondition: sel\n")
    assert events.positives == ({"Image": "Admin"},)
    assert events.case_variants == ()
    assert {"Image": "ADMIN"} in events.negatives


def test_equality_is_a_whole_value_match_so_other_words_around_it_are_a_negative() -> None:
    events = events_of("sel:\n    eventName: DeleteGuardrail\ncondition: sel\n")
    assert {"eventName": "pre DeleteGuardrail post"} in events.negatives


def test_a_document_that_also_meets_the_filter_is_a_negative() -> None:
    events = events_of(
        """
        sel:
            Image|endswith: '\\cmd.exe'
        filter:
            ParentImage: 'C:\\explorer.exe'
        condition: sel and not filter
        """
    )
    assert {"Image": "\\cmd.exe"} in events.positives
    assert {"Image": "\\cmd.exe", "ParentImage": "C:\\explorer.exe"} in events.negatives


def test_several_values_in_one_field_are_placed_start_middle_end() -> None:
    events = events_of(
        """
        sel:
            Image|endswith: '\\InstallUtil.exe'
            Image|contains: 'Framework'
            Image|startswith: 'C:'
        condition: sel
        """
    )
    assert {"Image": "C:Framework\\InstallUtil.exe"} in events.positives


def test_null_cidr_and_keywords() -> None:
    events = events_of(
        """
        sel:
            DestinationIp|cidr: '10.0.0.0/8'
            User: null
        keywords:
            - 'mimikatz'
        condition: sel and keywords
        """
    )
    assert {"DestinationIp": "10.0.0.1", "message": "mimikatz"} in events.positives
    assert {"DestinationIp": "10.0.0.1", "message": "mimikatz", "User": "zq"} not in (
        events.positives
    )


@pytest.mark.parametrize(
    "pattern", [r"\\[a-z]{3,}\.exe$", r"(?:foo|bar)\d+", r"^[^\\]+\s-enc", r"a.b+?c*"]
)
def test_a_regex_example_is_found_by_the_regex(pattern: str) -> None:
    assert re.search(pattern, example_of(pattern))
