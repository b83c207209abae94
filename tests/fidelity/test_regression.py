"""The regression-data loader reads SigmaHQ's tests as its README describes them."""

from __future__ import annotations

from pathlib import Path

from tests.fidelity.regression import flatten, load_cases


def test_an_event_is_flattened_as_a_pipeline_without_ecs_indexes_it() -> None:
    event = {
        "Event": {
            "#attributes": {"xmlns": "http://schemas.microsoft.com/win/2004/08/events/event"},
            "System": {
                "Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon", "Guid": "{5770}"}},
                "EventID": 1,
                "Channel": "Microsoft-Windows-Sysmon/Operational",
                "Computer": "host",
            },
            "EventData": {"Image": "C:\\x.exe", "#attributes": {"Name": "x"}, "Empty": None},
        }
    }
    assert flatten(event) == {
        "Image": "C:\\x.exe",
        "EventID": 1,
        "Channel": "Microsoft-Windows-Sysmon/Operational",
        "Provider": "Microsoft-Windows-Sysmon",
    }


def test_user_data_fields_come_from_its_one_element_and_an_attributed_event_id_from_its_text() -> (
    None
):
    event = {
        "Event": {
            "System": {"EventID": {"#attributes": {"Qualifiers": 0}, "#text": 5861}},
            "UserData": {"Operation_ESStoConsumerBinding": {"Consumer": "evil", "Namespace": "x"}},
        }
    }
    assert flatten(event) == {"Consumer": "evil", "Namespace": "x", "EventID": 5861}


def test_the_subset_has_101_rules_each_with_its_events(shared: Path) -> None:
    cases = list(load_cases(shared / "corpus"))
    assert len(cases) == 101
    assert all(case.events for case in cases)
    assert all(case.rule.is_file() for case in cases)
    redsun = next(case for case in cases if case.rule_id == "f2e4b7d9-5c3a-4f8b-9e1d-7a6c2b3f4e5d")
    assert redsun.match_count == 1
    assert redsun.events[0]["EventID"] == 11
    assert redsun.events[0]["TargetFilename"].endswith("\\TieringEngineService.exe")
    assert "System" not in redsun.events[0]
