"""Rule + query + settings → watch id and body, in the shape of sigmac's xpack-watcher output.

Pure: no I/O. Key order is part of the contract (the seed's order); watchmgr's only addition to
the body is ``metadata.watchmgr``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from watchmgr import query as query_module
from watchmgr.errors import Diagnostic, RuleError, SourceLocation
from watchmgr.rules import Aggregation, Rule, RuleCondition
from watchmgr.settings import RULER, WATCHER_INTERVAL, Action, WatchSettings, action_json


@dataclass(frozen=True, slots=True)
class Watch:
    """A desired watch: its id, the rule file it comes from, its body and active state."""

    id: str
    source: str
    line: int
    body: dict[str, Any]
    active: bool = True

    @property
    def location(self) -> SourceLocation:
        return SourceLocation(self.source, self.line)


@dataclass(frozen=True, slots=True)
class Ownership:
    """watchmgr's mark on a watch, ``metadata.watchmgr``: the one reader (`of`) and writer
    (`to_metadata`, `stamp`) of that key.

    A cluster watch is *owned* by the environment its mark names; only owned watches are ever
    updated or deleted without ``--adopt``. `digest` is a content hash of the body the mark was
    stamped on: it tells a watch edited on the cluster (digest unchanged, body not) from one
    whose rule changed. It classifies changes and is never compared.
    """

    #: The key watchmgr owns inside a watch's metadata.
    KEY: ClassVar[str] = "watchmgr"
    #: The field the cluster indexes a watch's environment under (for listing owned watches).
    ENVIRONMENT_FIELD: ClassVar[str] = f"metadata.{KEY}.environment"

    rule_id: str | None  # the Sigma id of the rule that made the watch
    source: str | None  # the rule file, relative to the repository root
    environment: str | None = None  # None: not owned by any environment
    digest: str | None = None

    @classmethod
    def of(cls, body: Mapping[str, Any] | None) -> Ownership | None:
        """The mark on `body`, None if it has none; a field of the wrong type reads as None."""
        metadata = (body or {}).get("metadata")
        mark = metadata.get(cls.KEY) if isinstance(metadata, Mapping) else None
        if not isinstance(mark, Mapping):
            return None

        def text(key: str) -> str | None:
            value = mark.get(key)
            return value if isinstance(value, str) else None

        return cls(text("rule_id"), text("source"), text("environment"), text("digest"))

    def to_metadata(self) -> dict[str, Any]:
        """The mark as it is written into ``metadata.watchmgr``, in this key order."""
        mark: dict[str, Any] = {"rule_id": self.rule_id, "source": self.source}
        if self.environment is not None:
            mark["environment"] = self.environment
        if self.digest is not None:
            mark["digest"] = self.digest
        return mark

    def stamp(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of `body` carrying this mark (where it was, else last in the metadata)."""
        metadata = dict(body.get("metadata") or {})
        metadata[self.KEY] = self.to_metadata()
        return {**body, "metadata": metadata}

    @classmethod
    def without_digest(cls, body: dict[str, Any]) -> dict[str, Any]:
        """`body`, changed in place: its mark's digest removed, as comparisons need it."""
        metadata = body.get("metadata")
        mark = metadata.get(cls.KEY) if isinstance(metadata, dict) else None
        if isinstance(mark, dict):
            mark.pop("digest", None)
        return body

    @classmethod
    def unmarked(cls, body: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of `body` without watchmgr's mark (no metadata key left if nothing remains)."""
        shown = dict(body)
        metadata = {k: v for k, v in (shown.get("metadata") or {}).items() if k != cls.KEY}
        if metadata:
            shown["metadata"] = metadata
        else:
            shown.pop("metadata", None)
        return shown


def with_owner(watch: Watch, environment: str, source: str | None = None) -> Watch:
    """`watch` owned by `environment`: its mark names it and the digest of the body.

    `source` replaces the rule path (root-relative, so the body does not depend on the working
    directory). The body's key order is kept.
    """
    mark = Ownership.of(watch.body) or Ownership(None, watch.source)
    if source is not None:
        mark = replace(mark, source=source)
        watch = replace(watch, source=source)
    unsigned = replace(mark, environment=environment, digest=None)
    body = unsigned.stamp(watch.body)
    return replace(watch, body=replace(unsigned, digest=_digest(body)).stamp(body))


def _digest(body: Mapping[str, Any]) -> str:
    """A short content hash of a body whose mark has no digest, stable across runs."""
    text = json.dumps(body, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class RenderResult:
    watches: tuple[Watch, ...]  # sorted by id
    diagnostics: tuple[Diagnostic, ...]


def base_id(rule: Rule, settings: WatchSettings) -> str:
    """The watch id of a rule's first watch under the settings' id scheme."""
    if settings.id_scheme == "sigma-id":
        if not rule.sigma_id:
            raise RuleError(
                "the rule has no 'id', which the 'sigma-id' watch id scheme needs "
                "(add a UUID or use the 'title' scheme)",
                rule.location,
            )
        name = rule.sigma_id
    else:
        # The seed's scheme: spaces become '-', parentheses go, every other character stays.
        name = rule.title.replace(" ", "-").replace("(", "").replace(")", "")
        name = "".join(
            "-" if c in "\t\r\n" else c for c in name if c.isprintable() or c in "\t\r\n"
        )
    watch_id = settings.id_prefix + name
    if not name.strip("-"):
        raise RuleError(
            "the rule has no title to make a watch id from (add a 'title')", rule.location
        )
    if watch_id in ("_execute", "_query", "_activate", "_deactivate", "_ack"):
        raise RuleError(f"watch id {watch_id!r} is reserved by the Watcher API", rule.location)
    return watch_id


def schedule(rule: Rule, settings: WatchSettings) -> tuple[str, str]:
    """How often the watch runs and how far back its search looks (the range's lower bound).

    A rule's ``detection.timeframe`` is the window its condition counts in, so it sets both: the
    watch runs every timeframe and searches the timeframe before (``now-5m/m``). The
    ``sigmac-2020`` dialect reproduces sigmac, which took the interval from the timeframe and
    kept the configured range (the seed's ``now-30m/m``); a rule without a timeframe takes both
    from its settings.
    """
    if rule.timeframe is None:
        return settings.interval, settings.range
    match = WATCHER_INTERVAL.match(rule.timeframe)
    if match is None or int(match.group(1)) == 0:
        raise RuleError(
            f"detection.timeframe {rule.timeframe!r} is not a Watcher interval: a whole number "
            "and one of the units s, m, h, d, w (like 5m; months and years as days: 30d)",
            rule.locate(r"^\s*timeframe\s*:"),
        )
    if settings.dialect == "sigmac-2020":
        return rule.timeframe, settings.range
    return rule.timeframe, matching_range(rule.timeframe)


def matching_range(interval: str) -> str:
    """The look-back that searches one `interval` (a Watcher interval): rounded down to the
    minute as the seed's range is (``now-5m/m``), or to the second for an interval in seconds
    (a minute's rounding would triple a 30s window)."""
    return f"now-{interval}/{'s' if interval.endswith('s') else 'm'}"


def build_body(
    rule: Rule, condition: RuleCondition, query: str, settings: WatchSettings
) -> dict[str, Any]:
    """The watch body for one condition of a rule."""
    raw = rule.raw
    legacy = settings.dialect == "sigmac-2020"
    aggregation = condition.aggregation
    if aggregation is not None and aggregation.function == "near":
        aggregation = (
            None  # only reached in the sigmac-2020 dialect, which drops it (with a warning)
        )
    interval, look_back = schedule(rule, settings)
    request_body: dict[str, Any] = {
        "size": 0,
        "query": {
            "bool": {
                "must": [{"query_string": {"query": query, "analyze_wildcard": True}}],
                "filter": {"range": {settings.timestamp_field: {"gte": look_back}}},
            }
        },
    }
    shape = _aggregation_shape(aggregation, legacy, settings.keyword_suffix)
    if shape.aggs:
        request_body["aggs"] = shape.aggs
    body: dict[str, Any] = {
        "metadata": {
            "title": raw.get("title", ""),
            "description": raw.get("description", ""),
            # sigmac wrote the rule's list, or "" when the rule has no tags.
            "tags": raw.get("tags", ""),
            "query": query,
            Ownership.KEY: Ownership(rule.sigma_id, rule.path, settings.environment).to_metadata(),
        },
        "trigger": {"schedule": {"interval": interval}},
        "input": {"search": {"request": {"body": request_body, "indices": list(settings.indices)}}},
        "condition": shape.condition,
        "actions": {
            action.name: _action(action, rule, shape.listing) for action in settings.actions
        },
    }
    if settings.throttle_period is not None:
        body["throttle_period"] = settings.throttle_period
    return body


def render_rules(
    rules: Iterable[Rule], settings_for: Callable[[Rule], WatchSettings | None]
) -> RenderResult:
    """Convert every rule; a rule that fails (or collides) becomes a diagnostic, not an exception.

    `settings_for` gives a rule's settings, or None to skip the rule.
    """
    watches: dict[str, Watch] = {}
    diagnostics: list[Diagnostic] = []
    used_in_file: dict[str, set[str]] = {}
    for rule in rules:
        settings = settings_for(rule)
        if settings is None:
            continue
        try:
            # Further watches of one file count on: -2, -3, ... (sigmac's counter).
            built, warnings = _rule_watches(
                rule, settings, used_in_file.setdefault(rule.path, set())
            )
        except RuleError as err:
            diagnostics.append(Diagnostic(err.location or rule.location, err.message))
            continue
        diagnostics.extend(warnings)
        keep_first(built, watches, diagnostics)
    return RenderResult(
        watches=tuple(sorted(watches.values(), key=lambda w: w.id)),
        diagnostics=tuple(diagnostics),
    )


def keep_first(
    watches: Iterable[Watch], by_id: dict[str, Watch], diagnostics: list[Diagnostic]
) -> None:
    """Add each watch to `by_id` unless an earlier one has its id; that is a collision error."""
    for watch in watches:
        other = by_id.get(watch.id)
        if other is None:
            by_id[watch.id] = watch
        else:
            diagnostics.append(collision(watch, other))


def collision(watch: Watch, other: Watch) -> Diagnostic:
    """The error for `watch`, whose id `other` (from another rule) has already taken."""
    return Diagnostic(
        watch.location,
        f"watch id {watch.id!r} is also made by {other.location}; "
        "change one rule's title or use the 'sigma-id' id scheme",
    )


def _rule_watches(
    rule: Rule, settings: WatchSettings, used: set[str]
) -> tuple[list[Watch], list[Diagnostic]]:
    """The watches of one rule; `used` holds the ids earlier rules of the same file took."""
    first = base_id(rule, settings)
    built: list[Watch] = []
    warnings: list[Diagnostic] = []
    for condition in rule.conditions:
        agg = condition.aggregation
        if agg is not None and agg.function == "near":
            where = rule.locate(re.escape(agg.text[:30]))
            if settings.dialect != "sigmac-2020":
                raise RuleError(
                    f"the aggregation {agg.text!r} cannot be expressed in a Watcher search "
                    "(sigmac dropped 'near' silently; the sigmac-2020 dialect does so too)",
                    where,
                )
            warnings.append(
                Diagnostic(where, f"'{agg.text}' dropped: the watch searches without it", "warning")
            )
        query = query_module.render(rule, condition, settings.dialect, settings.keyword_suffix)
        warnings.extend(
            Diagnostic(rule.locate(r"\|re\b"), f"regular expression: {note}", "warning")
            for note in query.notes
        )
        warnings.extend(
            Diagnostic(rule.locate(r"^detection:"), warning, "warning")
            for warning in query.warnings
        )
        watch_id = first
        counter = 2
        while watch_id in used:
            watch_id = f"{first}-{counter}"
            counter += 1
        used.add(watch_id)
        built.append(
            Watch(
                id=watch_id,
                source=rule.path,
                line=rule.line,
                body=build_body(rule, condition, query.text, settings),
                active=settings.active,
            )
        )
    return built, warnings


@dataclass(frozen=True, slots=True)
class _Shape:
    """What an aggregation adds to a watch: search aggs, the condition, the e-mail listing."""

    aggs: dict[str, Any]
    condition: dict[str, Any]
    listing: str | None  # None: list the hits


_COMPARE_OPS = {">": "gt", ">=": "gte", "<": "lt", "<=": "lte", "==": "eq"}
_HITS_CONDITION = {"compare": {"ctx.payload.hits.total": {"not_eq": 0}}}


def _aggregation_shape(agg: Aggregation | None, legacy: bool, suffix: str) -> _Shape:
    if agg is None:
        return _Shape({}, _HITS_CONDITION, None)
    op = _COMPARE_OPS[agg.op]
    if agg.field is None and agg.group_by is None:
        # `count() > N`: the number of hits itself.
        return _Shape({}, {"compare": {"ctx.payload.hits.total": {op: agg.threshold}}}, None)
    if legacy or (agg.function == "count" and agg.field is None):
        return _sigmac_terms(agg, legacy, suffix)
    return _metric_buckets(agg, suffix)


def _sigmac_terms(agg: Aggregation, legacy: bool, suffix: str) -> _Shape:
    """sigmac's terms aggregations, compared on bucket 0.

    For ``count() by G`` this is right: the buckets are sorted by count, so bucket 0 passes
    the threshold exactly when some bucket does. (For ``count(F) by G`` it is not, which is why
    only the sigmac-2020 dialect uses it there.)
    """
    descending = agg.op in (">", ">=", "==")
    minimum: dict[str, int] = {}
    if agg.op == ">":
        minimum = {"min_doc_count": agg.threshold + 1}
    elif agg.op == ">=":
        minimum = {"min_doc_count": agg.threshold}
    condition_value: dict[str, int] = {_COMPARE_OPS[agg.op]: agg.threshold}
    if legacy and agg.op == "==":
        condition_value = {"not_eq": 0}  # sigmac had no branch for `==`

    def terms(field: str) -> dict[str, Any]:
        return {
            "field": field + suffix,
            "size": 10,
            "order": {"_count": "desc" if descending else "asc"},
            **minimum,
        }

    aggs: dict[str, Any] = {}
    location = ""
    loops: list[str] = []
    if agg.field is not None:
        aggs = {"aggs": {"agg": {"terms": terms(agg.field)}}}
        location = "agg.buckets.0."
        loops.append("agg.buckets")
    if agg.group_by is not None:
        aggs = {"aggs": {"by": {"terms": terms(agg.group_by), **aggs}}}
        location = "by.buckets.0." + location
        loops.append("by.buckets")
    if legacy:
        # sigmac's listing: its loops are nested the wrong way round and miss `ctx.payload.`.
        loops[0] = "aggregations." + loops[0]
        listing = "Hits:\n" + "\n".join(
            f"{{{{#{loop}}}}}\n{'-' * (2 * i)} {{{{key}}}} {{{{doc_count}}}}\n"
            for i, loop in enumerate(loops)
        )
        listing += "\n".join(f"{{{{/{loop}}}}}\n" for loop in reversed(loops))
    else:
        listing = _bucket_listing("{{doc_count}}")
    return _Shape(
        aggs["aggs"],
        {"compare": {f"ctx.payload.aggregations.{location}doc_count": condition_value}},
        listing,
    )


def _metric_buckets(agg: Aggregation, suffix: str) -> _Shape:
    """A metric per group (distinct count for ``count(F)``), and a condition over every bucket."""
    assert agg.field is not None
    if agg.function == "count":
        metric = {"cardinality": {"field": agg.field + suffix}}
    else:
        metric = {agg.function: {"field": agg.field}}
    op = _COMPARE_OPS[agg.op]
    if agg.group_by is None:
        return _Shape(
            {"agg": metric},
            {"compare": {"ctx.payload.aggregations.agg.value": {op: agg.threshold}}},
            "Hits:\n{{ctx.payload.aggregations.agg.value}}\n",
        )
    order = "desc" if agg.op in (">", ">=", "==") else "asc"
    terms = {"field": agg.group_by + suffix, "size": 10, "order": {"agg": order}}
    return _Shape(
        {"by": {"terms": terms, "aggs": {"agg": metric}}},
        {
            "array_compare": {
                "ctx.payload.aggregations.by.buckets": {
                    "path": "agg.value",
                    op: {"value": agg.threshold, "quantifier": "some"},
                }
            }
        },
        _bucket_listing("{{agg.value}}"),
    )


def _bucket_listing(value: str) -> str:
    return (
        "Hits:\n{{#ctx.payload.aggregations.by.buckets}}\n"
        f"{{{{key}}}} {value}\n"
        "{{/ctx.payload.aggregations.by.buckets}}\n"
    )


def _hits_body(rule: Rule) -> str:
    fields = rule.raw.get("fields")
    body = "Hits:\n{{#ctx.payload.hits.hits}}"
    if isinstance(fields, list) and fields and all(isinstance(f, str) for f in fields):
        width = max(len(f) for f in fields)
        lines = "\n".join(f"{f:>{width}} = {{{{_source.{f}}}}}" for f in fields)
        # sigmac put no newline between the last field line and the ruler.
        body += "Hit on {{_source.@timestamp}}:\n" + lines + RULER + "\n"
    else:
        body += "{{_source}}\n" + RULER + "\n"
    return body + "{{/ctx.payload.hits.hits}}"


def _action(action: Action, rule: Rule, listing: str | None) -> dict[str, Any]:
    """`action_json` filled in for `rule`: its title in the templates, sigmac's defaults."""
    ((kind, settings),) = action_json(action).items()
    title = mustache_literal(rule.title)
    for template in ("subject", "text"):  # the two that may use {title}
        if template in settings:
            settings[template] = settings[template].replace("{title}", title)
    if kind == "email":
        if len(settings["to"]) == 1:
            settings["to"] = settings["to"][0]
        if settings["body"] is None:
            settings["body"] = listing if listing is not None else _hits_body(rule)
        attach = {"data.json": {"data": {"format": "json"}}}
        settings["attachments"] = attach if settings["attachments"] else None
    return {kind: {key: value for key, value in settings.items() if value is not None}}


def mustache_literal(text: str) -> str:
    """`text` such that Mustache prints it as written: ``{{``/``}}`` cannot start a tag.

    Mustache has no escape for its delimiters, so the text is wrapped in a delimiter switch to
    a pair it does not contain, and switched back after.
    """
    if "{{" not in text and "}}" not in text:
        return text
    for open_, close in (("<%", "%>"), ("[[", "]]"), ("<<", ">>"), ("(%", "%)")):
        if open_ not in text and close not in text:
            return f"{{{{={open_} {close}=}}}}{text}{open_}={{{{ }}}}={close}"
    return text.replace("{", "(").replace("}", ")")
