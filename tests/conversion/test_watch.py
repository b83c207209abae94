"""Watch ids and bodies: the seed's scheme, multi-document counters, settings, template safety."""

from __future__ import annotations

import dataclasses
import urllib.parse

import pytest

from tests.conversion.support import render_yaml
from watchmgr.settings import DEFAULT_SETTINGS, EmailAction, LoggingAction, WebhookAction

RULE = """\
title: {title}
id: 7a1d5c9e-2b4f-4c8a-9e3d-6f0a1b2c3d44
logsource:
    product: windows
detection:
    sel:
        Image: x.exe
    condition: sel
"""


@pytest.mark.parametrize(
    ("title", "watch_id"),
    [
        ("T1086 Remote PowerShell Session", "T1086-Remote-PowerShell-Session"),
        ("Adwind RAT / JRAT", "Adwind-RAT-/-JRAT"),
        ("Narrator's Feedback-Hub Persistence", "Narrator's-Feedback-Hub-Persistence"),
        ("Mimikatz (sekurlsa) Use", "Mimikatz-sekurlsa-Use"),
        ("New user with '$' in 'SamAccountName'.", "New-user-with-'$'-in-'SamAccountName'."),
    ],
)
def test_watch_ids_follow_the_seed_scheme(title: str, watch_id: str) -> None:
    result, _ = render_yaml(RULE.format(title=title))
    assert [w.id for w in result.watches] == [watch_id]


@pytest.mark.parametrize("watch_id", ["Adwind-RAT-/-JRAT", "a?b#c%d", "x y&z=1", "Ünïcode-Ø"])
def test_ids_survive_a_url_path(watch_id: str) -> None:
    # The client percent-encodes path parts; the server decodes them back to the same id.
    encoded = urllib.parse.quote(watch_id, safe="")
    assert "/" not in encoded and "?" not in encoded and "#" not in encoded
    assert urllib.parse.unquote(encoded) == watch_id


def test_sigma_id_scheme_with_prefix() -> None:
    result, _ = render_yaml(RULE.format(title="X"), id_scheme="sigma-id", id_prefix="prod-")
    assert [w.id for w in result.watches] == ["prod-7a1d5c9e-2b4f-4c8a-9e3d-6f0a1b2c3d44"]


def test_sigma_id_scheme_needs_an_id() -> None:
    result, lines = render_yaml(
        RULE.format(title="X").replace("id: 7a1d", "x: 7a1d"), id_scheme="sigma-id"
    )
    assert result.watches == ()
    assert lines == [
        "rules/test.yml:1: the rule has no 'id', which the 'sigma-id' watch id scheme needs "
        "(add a UUID or use the 'title' scheme)"
    ]


MULTI = """\
action: global
title: Multi
logsource:
    product: windows
detection:
    condition: sel
---
detection:
    sel:
        EventID: 1
---
detection:
    sel:
        EventID: 2
---
detection:
    sel:
        EventID: 3
"""


def test_further_watches_of_a_multi_document_rule_count_on() -> None:
    result, lines = render_yaml(MULTI, dialect="sigmac")
    assert lines == []
    by_id = {w.id: w.body["metadata"]["query"] for w in result.watches}
    assert by_id == {"Multi": 'EventID:"1"', "Multi-2": 'EventID:"2"', "Multi-3": 'EventID:"3"'}
    assert [w.line for w in result.watches] == [8, 12, 16]  # each document's first line


def test_a_condition_list_gives_one_watch_per_condition() -> None:
    text = RULE.format(title="Two").replace(
        "condition: sel", "other:\n        B: 1\n    condition:\n        - sel\n        - other"
    )
    result, _ = render_yaml(text, dialect="sigmac")
    assert [(w.id, w.body["metadata"]["query"]) for w in result.watches] == [
        ("Two", 'Image:"x.exe"'),
        ("Two-2", 'B:"1"'),
    ]


def test_titles_cannot_inject_mustache_into_the_subject() -> None:
    result, _ = render_yaml(RULE.format(title="'Evil {{ctx.metadata}} }}'"))
    subject = result.watches[0].body["actions"]["send_email"]["email"]["subject"]
    assert subject == "Sigma Rule '{{=<% %>=}}Evil {{ctx.metadata}} }}<%={{ }}=%>'"
    assert result.watches[0].body["metadata"]["title"] == "Evil {{ctx.metadata}} }}"


def test_fields_make_one_aligned_line_each_in_the_mail() -> None:
    text = RULE.format(title="F") + "fields:\n    - Image\n    - CommandLine\n"
    body = render_yaml(text)[0].watches[0].body["actions"]["send_email"]["email"]["body"]
    assert body == (
        "Hits:\n{{#ctx.payload.hits.hits}}Hit on {{_source.@timestamp}}:\n"
        "      Image = {{_source.Image}}\nCommandLine = {{_source.CommandLine}}"
        + "=" * 80
        + "\n{{/ctx.payload.hits.hits}}"
    )


def test_timeframe_sets_the_interval_and_range_and_tags_default_to_an_empty_string() -> None:
    text = RULE.format(title="T").replace(
        "    condition: sel", "    timeframe: 5m\n    condition: sel"
    )
    body = render_yaml(text)[0].watches[0].body
    assert body["trigger"] == {"schedule": {"interval": "5m"}}
    assert body["metadata"]["tags"] == ""
    assert body["input"]["search"]["request"]["body"]["query"]["bool"]["filter"] == {
        "range": {"timestamp": {"gte": "now-5m/m"}}
    }


@pytest.mark.parametrize(
    ("timeframe", "look_back"), [("30s", "now-30s/s"), ("1h", "now-1h/m"), ("7d", "now-7d/m")]
)
def test_a_timeframes_range_is_rounded_to_the_minute_or_for_seconds_to_the_second(
    timeframe: str, look_back: str
) -> None:
    text = RULE.format(title="T").replace(
        "    condition: sel", f"    timeframe: {timeframe}\n    condition: sel"
    )
    body = render_yaml(text)[0].watches[0].body
    assert body["input"]["search"]["request"]["body"]["query"]["bool"]["filter"] == {
        "range": {"timestamp": {"gte": look_back}}
    }


def test_in_the_sigmac_2020_dialect_timeframe_sets_only_the_interval_as_sigmac_did() -> None:
    text = RULE.format(title="T").replace(
        "    condition: sel", "    timeframe: 5m\n    condition: sel"
    )
    body = render_yaml(text, dialect="sigmac-2020")[0].watches[0].body
    assert body["trigger"] == {"schedule": {"interval": "5m"}}
    assert body["input"]["search"]["request"]["body"]["query"]["bool"]["filter"] == {
        "range": {"timestamp": {"gte": "now-30m/m"}}
    }


@pytest.mark.parametrize("timeframe", ["5 minutes", "2M", "0s", "1.5h"])
def test_a_timeframe_watcher_cannot_run_is_an_error_at_its_line(timeframe: str) -> None:
    text = RULE.format(title="T").replace(
        "    condition: sel", f"    timeframe: {timeframe}\n    condition: sel"
    )
    result, lines = render_yaml(text)
    assert result.watches == ()
    (line,) = lines
    number = 1 + next(
        i for i, text_line in enumerate(text.splitlines()) if "timeframe" in text_line
    )
    assert line.startswith(f"rules/test.yml:{number}: detection.timeframe ")
    assert "is not a Watcher interval" in line


def test_settings_shape_the_body() -> None:
    settings = dataclasses.replace(
        DEFAULT_SETTINGS,
        interval="5m",
        range="now-1h",
        timestamp_field="@timestamp",
        indices=("winlogbeat-*",),
        throttle_period="1h",
        actions=(
            EmailAction(
                to=("soc@example.org", "ir@example.org"), profile="outlook", sender="w@example.org"
            ),
            WebhookAction(url="https://hooks.example.org/x"),
            LoggingAction(),
        ),
    )
    body = render_yaml(RULE.format(title="S"), settings=settings)[0].watches[0].body
    assert body["trigger"]["schedule"]["interval"] == "5m"
    request = body["input"]["search"]["request"]
    assert request["indices"] == ["winlogbeat-*"]
    assert request["body"]["query"]["bool"]["filter"] == {
        "range": {"@timestamp": {"gte": "now-1h"}}
    }
    assert body["throttle_period"] == "1h"
    assert list(body["actions"]) == ["send_email", "webhook", "log"]
    email = body["actions"]["send_email"]["email"]
    assert list(email)[:3] == ["profile", "from", "to"]
    assert email["to"] == ["soc@example.org", "ir@example.org"]
    assert body["actions"]["webhook"]["webhook"]["url"] == "https://hooks.example.org/x"
    assert body["actions"]["log"] == {
        "logging": {
            "text": "Sigma Rule 'S' matched {{ctx.payload.hits.total}} events",
            "level": "info",
        }
    }


AGG = """\
title: Agg
logsource:
    product: windows
detection:
    sel:
        EventID: 4625
    condition: sel | {agg}
"""


def test_count_by_group_keeps_sigmacs_terms_and_lists_every_bucket() -> None:
    body = render_yaml(AGG.format(agg="count() by Host > 5"))[0].watches[0].body
    assert body["input"]["search"]["request"]["body"]["aggs"] == {
        "by": {
            "terms": {
                "field": "Host.keyword",
                "size": 10,
                "order": {"_count": "desc"},
                "min_doc_count": 6,
            }
        }
    }
    # Buckets are sorted by count, so bucket 0 passes exactly when some bucket does.
    assert body["condition"] == {
        "compare": {"ctx.payload.aggregations.by.buckets.0.doc_count": {"gt": 5}}
    }
    assert (
        "{{#ctx.payload.aggregations.by.buckets}}" in body["actions"]["send_email"]["email"]["body"]
    )


def test_distinct_count_by_group_looks_at_every_bucket() -> None:
    body = render_yaml(AGG.format(agg="count(User) by Host > 3"))[0].watches[0].body
    assert body["input"]["search"]["request"]["body"]["aggs"] == {
        "by": {
            "terms": {"field": "Host.keyword", "size": 10, "order": {"agg": "desc"}},
            "aggs": {"agg": {"cardinality": {"field": "User.keyword"}}},
        }
    }
    assert body["condition"] == {
        "array_compare": {
            "ctx.payload.aggregations.by.buckets": {
                "path": "agg.value",
                "gt": {"value": 3, "quantifier": "some"},
            }
        }
    }


def test_count_without_group_compares_the_hits() -> None:
    body = render_yaml(AGG.format(agg="count() > 10"))[0].watches[0].body
    assert "aggs" not in body["input"]["search"]["request"]["body"]
    assert body["condition"] == {"compare": {"ctx.payload.hits.total": {"gt": 10}}}


def test_near_is_refused_by_name_and_dropped_with_a_warning_in_sigmac_2020() -> None:
    text = AGG.format(agg="near sel")
    result, lines = render_yaml(text)
    assert result.watches == ()
    assert lines == [
        "rules/test.yml:7: the aggregation 'near sel' cannot be expressed in a Watcher search "
        "(sigmac dropped 'near' silently; the sigmac-2020 dialect does so too)"
    ]
    result, lines = render_yaml(text, dialect="sigmac-2020")
    assert [w.id for w in result.watches] == ["Agg"]
    assert lines == ["rules/test.yml:7: warning: 'near sel' dropped: the watch searches without it"]


def test_an_unparsable_aggregation_is_an_error() -> None:
    result, lines = render_yaml(AGG.format(agg="count() by"))
    assert result.watches == ()
    assert lines == [
        "rules/test.yml:7: cannot parse aggregation 'count() by' "
        "(expected e.g. 'count(Field) by Group > 3')"
    ]
