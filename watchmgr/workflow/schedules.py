"""Whether a watch's schedule and the time range it searches agree (pure)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from watchmgr.errors import Diagnostic
from watchmgr.watch import matching_range

if TYPE_CHECKING:
    from watchmgr.config import Environment
    from watchmgr.watch import Watch


_INTERVAL = re.compile(r"(\d+)(ms|s|m|h|d|w)")
_LOOK_BACK = re.compile(r"now-(\d+)(s|m|h|d|w)(/[smhdw])?")
_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def schedule_warnings(env: Environment | None, watches: Sequence[Watch]) -> list[Diagnostic]:
    """A warning for each way `watches` run at an interval their search's range disagrees with:
    a range shorter than the interval never searches some events; one of twice the interval or
    more alerts on each event again at every run it covers. (A range a little longer than the
    interval is the usual allowance for late events and is not warned about.) The configured
    range is not derived from the configured interval; a rule's timeframe sets both
    (`watch.schedule`), except in the sigmac-2020 dialect, which keeps sigmac's range.

    One warning at the environment's setting (`watch.interval` or a level's) for the watches
    that take both from it; one at the rule for a watch whose interval is its own timeframe.
    """
    from watchmgr.errors import SourceLocation

    origins = dict(env.origins) if env is not None else {}
    configured = {}
    if env is not None:
        configured[env.watch.interval, env.watch.range] = "watch"
        for level, patch in reversed(env.by_level):
            settings = patch.apply(env.watch)
            configured.setdefault((settings.interval, settings.range), f"watch.by_level.{level}")
    found: dict[tuple[str, str], list[Watch]] = {}
    for watch in watches:
        schedule = _schedule(watch.body)
        if schedule is not None and _disagree(*schedule):
            found.setdefault(schedule, []).append(watch)
    warnings = []
    for (interval, look_back), group in sorted(found.items()):
        key = configured.get((interval, look_back))
        if key is not None and env is not None:
            where = origins.get(f"{key}.interval") or origins.get(f"{key}.range") or env.path
            path, _, line = where.rpartition(":")
            location = SourceLocation(path, int(line)) if line.isdigit() else SourceLocation(where)
            what = f"{key}: interval {interval} and range {look_back} disagree"
            count = f"{len(group)} watch{'es' if len(group) > 1 else ''}"
            advice = f"set {key}.range: {matching_range(interval)}, or an interval that matches"
            message = f"{what} ({count}): {_effect(interval, look_back)}; {advice}"
            warnings.append(Diagnostic(location, message, "warning"))
            continue
        for watch in group:
            message = (
                f"the watch runs every {interval} (its rule's timeframe or an override) but "
                f"searches from {look_back}: {_effect(interval, look_back)}; give this rule "
                f"range: {matching_range(interval)} (an environment's override can)"
            )
            warnings.append(Diagnostic(watch.location, message, "warning"))
    return warnings


def _schedule(body: Mapping[str, Any]) -> tuple[str, str] | None:
    """A watch body's (interval, range lower bound), when it has the seed's shape."""
    try:
        interval = body["trigger"]["schedule"]["interval"]
        ranges = body["input"]["search"]["request"]["body"]["query"]["bool"]["filter"]["range"]
        (bounds,) = ranges.values()
        look_back = bounds["gte"]
    except (KeyError, TypeError, ValueError):
        return None
    return (
        (interval, look_back) if isinstance(interval, str) and isinstance(look_back, str) else None
    )


def _disagree(interval: str, look_back: str) -> bool:
    every, reach = _seconds(interval, _INTERVAL), _reach(look_back)
    if every is None or reach is None:
        return False
    least, most = reach
    return not (every <= least and most < 2 * every)


def _effect(interval: str, look_back: str) -> str:
    every, (least, most) = _seconds(interval, _INTERVAL) or 1, _reach(look_back) or (0, 0)
    if least < every:
        return "events in the rest of each interval are never searched"
    # a range of twice the interval or more already repeats; else its rounding makes it repeat
    times = math.ceil((least if least >= 2 * every else most) / every)
    return f"each event is alerted on up to {times} times"


def _reach(look_back: str) -> tuple[float, float] | None:
    """How far back a look-back searches, at least and at most: its amount, plus up to one unit
    of its rounding (``now-30s/m`` rounds down to the minute: 30 to 90 seconds)."""
    match = _LOOK_BACK.fullmatch(look_back)
    if match is None:
        return None
    least = int(match.group(1)) * _SECONDS[match.group(2)]
    rounding = match.group(3)
    return least, least + (_SECONDS[rounding[1:]] if rounding else 0)


def _seconds(text: str, pattern: re.Pattern[str]) -> float | None:
    match = pattern.fullmatch(text)
    return int(match.group(1)) * _SECONDS[match.group(2)] if match else None
