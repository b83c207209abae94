"""Rule files → desired watches: the conversion the CLI commands share."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from watchmgr.errors import Diagnostic, RuleError
from watchmgr.rules import Rule, load_paths
from watchmgr.settings import DEFAULT_SETTINGS, WatchSettings
from watchmgr.watch import Watch, render_rules


@dataclass(frozen=True, slots=True)
class Conversion:
    """The watches made from a set of rule files, and every error and warning on the way."""

    rules: int
    watches: tuple[Watch, ...]  # sorted by id
    diagnostics: tuple[Diagnostic, ...]  # sorted by location

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity == "error")

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity == "warning")


def convert(
    paths: Iterable[str | Path],
    settings_for: Callable[[Rule], WatchSettings | None] | None = None,
    prepare: Callable[[Rule], Rule] | None = None,
) -> Conversion:
    """Load the rules under `paths` and render their watches.

    `settings_for` gives a rule's settings (None skips it; default: the seed's settings);
    `prepare` may return a changed copy of a rule first (an environment's pipelines).
    """
    loaded = load_paths(paths)
    problems: list[Diagnostic] = []
    rules: list[Rule] = []
    for rule in loaded.rules:
        try:
            rules.append(prepare(rule) if prepare else rule)
        except RuleError as err:
            problems.append(Diagnostic(err.location or rule.location, err.message))
    rendered = render_rules(rules, settings_for or (lambda _rule: DEFAULT_SETTINGS))
    diagnostics = sorted(
        (*loaded.diagnostics, *problems, *rendered.diagnostics),
        key=lambda d: (d.location.path, d.location.line or 0, d.message),
    )
    return Conversion(len(loaded.rules), rendered.watches, tuple(diagnostics))
