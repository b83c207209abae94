"""Rules to watches: the one conversion every command runs, and the desired state of an
environment.

`convert_environment` is the one way an environment's rules are converted: its settings with
the command line's over them, the conversion cache keyed on both, its warnings, its overrides
that match no rule and its schedules that disagree reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from watchmgr.errors import Diagnostics, WatchmgrError
from watchmgr.workflow.inputs import DEFAULT_TUNING, Choices, Tuning, environment
from watchmgr.workflow.schedules import schedule_warnings

if TYPE_CHECKING:
    from watchmgr.config import Environment
    from watchmgr.convert import Conversion
    from watchmgr.rules import Rule
    from watchmgr.settings import WatchSettings
    from watchmgr.watch import Watch


def convert_rules(
    root: Path,
    paths: Sequence[Path],
    env_name: str | None,
    choices: Choices,
    report: Diagnostics,
    *,
    tuning: Tuning = DEFAULT_TUNING,
) -> Conversion:
    """The watches of the rules under `paths` (default: the environment's, or ``rules/``).

    With an environment, as it says; without, with the seed's settings.
    """
    from watchmgr.cache import cache_for
    from watchmgr.convert import convert
    from watchmgr.settings import DEFAULT_SETTINGS

    if env_name is not None:
        env = environment(root, env_name, report)
        return convert_environment(env, paths, choices, report, tuning=tuning)
    settings = choices.over(DEFAULT_SETTINGS)
    cache = cache_for(root, repr(settings)) if tuning.cache else None
    chosen = list(paths) or [root / "rules"]
    result = convert(
        chosen,
        lambda _rule: settings,
        None,
        jobs=tuning.jobs,
        base=root,
        cache=cache,
        progress=tuning.progress,
    )
    report.extend(result.diagnostics)
    schedules = schedule_warnings(None, result.watches)
    report.extend(schedules)
    return replace(result, diagnostics=(*result.diagnostics, *schedules))


def convert_environment(
    env: Environment,
    paths: Sequence[Path],
    choices: Choices,
    report: Diagnostics,
    *,
    tuning: Tuning = DEFAULT_TUNING,
) -> Conversion:
    """The watches of `env`'s rules (or of the rules under `paths`), as `env` says."""
    from watchmgr.cache import cache_for
    from watchmgr.convert import convert

    given = choices.given()
    cache = cache_for(env.root, f"{env.fingerprint()} {given}") if tuning.cache else None

    def settings_for(rule: Rule) -> WatchSettings | None:
        return choices.over(env.settings_for(rule))

    chosen = list(paths) or list(env.rule_paths())
    result = convert(
        chosen,
        settings_for,
        env.prepare,
        jobs=tuning.jobs,
        base=env.root,
        cache=cache,
        progress=tuning.progress,
    )
    report.extend(result.diagnostics)
    # An override that matches no rule is most likely a typo in its id or glob.
    unused = (*env.unused_overrides(result.refs), *schedule_warnings(env, result.watches))
    report.extend(unused)
    return replace(result, diagnostics=(*result.diagnostics, *unused))


def desired(env: Environment, report: Diagnostics, tuning: Tuning = DEFAULT_TUNING) -> list[Watch]:
    """The environment's watches, each owned by it; a rule that fails refuses the whole plan."""
    from watchmgr.watch import with_owner

    result = convert_environment(env, (), Choices(), report, tuning=tuning)
    if result.errors:
        raise WatchmgrError(
            f"{len(result.errors)} error(s) loading the rules (above), so nothing is planned "
            f"for environment {env.name!r}: their watches would look deleted; fix them first"
        )
    return [with_owner(w, env.name, w.source) for w in result.watches]
