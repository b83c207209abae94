"""What pySigma has installed: its processing pipelines, and the backends of other query
languages (``render --format query --target``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from watchmgr.errors import Diagnostic, Diagnostics, RuleError, WatchmgrError

if TYPE_CHECKING:
    from watchmgr.rules import Rule


def installed_pipelines() -> list[dict[str, Any]]:
    """The pySigma processing pipelines installed (as sigma-cli lists them), by identifier:
    each one's ``identifier`` (what ``mapping.pipelines`` takes), ``name``, ``priority`` and
    ``backends`` (empty: any)."""
    from sigma.plugins import InstalledSigmaPlugins

    found: list[dict[str, Any]] = []
    for identifier, factory in sorted(InstalledSigmaPlugins.autodiscover().pipelines.items()):
        try:
            pipeline = factory() if callable(factory) else factory
        except Exception as err:  # a broken plugin is listed, not fatal
            found.append(
                {
                    "identifier": identifier,
                    "name": f"(fails to load: {err})",
                    "priority": None,
                    "backends": [],
                }
            )
            continue
        found.append(
            {
                "identifier": identifier,
                "name": str(getattr(pipeline, "name", "") or ""),
                "priority": getattr(pipeline, "priority", None),
                "backends": sorted(getattr(pipeline, "allowed_backends", None) or ()),
            }
        )
    return found


#: ``render --format query --target T``: the query languages besides the watch's own (es-qs),
#: each through the pySigma backend that PyPI has for it, an optional extra.
QUERY_BACKENDS = {
    "splunk": ("sigma.backends.splunk", "SplunkBackend", "pysigma-backend-splunk"),
    "logpoint": ("sigma.backends.logpoint", "Logpoint", "pysigma-backend-logpoint"),
}
#: ``graylog`` is printed by watchmgr itself (`watchmgr.query.graylog`), as sigmac did.
QUERY_TARGETS = ("es-qs", "graylog", *QUERY_BACKENDS)


def backend_queries(
    root: Path, paths: Sequence[Path], target: str, report: Diagnostics
) -> list[tuple[str, str]]:
    """(rule path, query) for each rule under `paths` (default ``rules/``) in `target`'s
    language: ``graylog`` by `watchmgr.query.graylog`, the others by the pySigma backend named
    in `QUERY_BACKENDS`; a rule that cannot be converted is an error in `report`. A backend
    that is not installed is one error naming the package to install."""
    import importlib

    from watchmgr.query import graylog
    from watchmgr.rules import load_paths

    convert_rule: Callable[[Rule], Sequence[object]] = graylog.render
    if target != "graylog":
        module, name, package = QUERY_BACKENDS[target]
        try:
            backend = getattr(importlib.import_module(module), name)()
        except ImportError as err:
            raise WatchmgrError(
                f"--target {target} needs the pySigma backend {package}, which is not "
                f"installed (pip install {package})"
            ) from err

        def through_pysigma(rule: Rule) -> list[str]:
            _refuse_windows(rule, target)
            return [_one_line(str(q)) for q in backend.convert_rule(rule.sigma)]

        convert_rule = through_pysigma
    loaded = load_paths(list(paths) or [root / "rules"], root)
    report.extend(loaded.diagnostics)
    found: list[tuple[str, str]] = []
    for rule in sorted(loaded.rules, key=lambda r: (r.path, r.line)):
        try:
            queries = convert_rule(rule)
        except RuleError as err:
            report.extend([Diagnostic(err.location or rule.location, f"{target}: {err.message}")])
            continue
        except Exception as err:  # pySigma's errors, and plain ones on odd input
            report.extend([Diagnostic(rule.location, f"{target}: {err}")])
            continue
        found.extend((rule.path, str(q)) for q in queries)
    return found


def _refuse_windows(rule: Rule, target: str) -> None:
    """Raise RuleError for a rule that counts events in a window: pySigma sees the condition
    without its aggregation (`watchmgr.rules` splits it off) and the detection without its
    timeframe, so its query would match every event the search part matches."""
    for condition in rule.conditions:
        if condition.aggregation is not None:
            raise RuleError(
                f"the aggregation {condition.aggregation.text!r} has no {target} form here: "
                "the query would match every event its search matches, not the count",
                rule.locate(r"^\s*condition:"),
            )
    if rule.timeframe is not None:
        raise RuleError(
            f"the timeframe {rule.timeframe!r} has no {target} form here: the query would "
            "match events at any time, not in the window",
            rule.locate(r"^\s*timeframe\s*:"),
        )


def _one_line(query: str) -> str:
    """A backend's query on one line: Splunk's backend starts a pipeline stage (``| regex``,
    ``| where``) on a line of its own, and a line break before a pipe is only white space there."""
    return query.replace("\n| ", " | ")
