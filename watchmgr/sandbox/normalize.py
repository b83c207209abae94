"""What Elasticsearch does to a watch between PUT and GET (watcher-api.md §2), as pure functions.

ES never stores the bytes it is sent: it parses the body into a typed `Watch`, serializes that
back, stores the result and, on every read, parses and serializes again with secrets hidden
(§2.0). `parse_watch` is the first half (body -> stored canonical form, secrets in clear, defaults
applied, rejected bodies raise `EsError`); `render_watch` is the read half (redaction).

The work is split into small parsers registered per type (like ES's own registries); every rule
of §2 is implemented at the line carrying its id in a comment, and `RULES` in the tests'
`tests/sandbox/rules_table.py` lists each rule with an example they put through a live sandbox.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from watchmgr.sandbox.errors import EsError, illegal_argument, parse_exception
from watchmgr.sandbox.javamap import hashmap_order

REDACTED = "::es_redacted::"
ENCRYPTED_PREFIX = "::es_encrypted::"

Json = Any


@dataclass(frozen=True, slots=True)
class ParseContext:
    """Facts about the request and the emulated server that change how a body is parsed."""

    watch_id: str
    #: True for PUT with `if_seq_no`/`version` ("update mode", §1.1): redacted secrets are dropped.
    update_mode: bool = False
    #: Schedule `timezone` exists from 9.x (§2.2 S14, §9).
    timezone_supported: bool = True
    #: IndicesOptions key order changed around 8.14 (§2.3 Q8).
    modern_indices_options: bool = True


_MISSING = object()


def token_name(value: Any) -> str:
    """The Jackson token ES names in its messages for a JSON value."""
    if isinstance(value, dict):
        return "START_OBJECT"
    if isinstance(value, list):
        return "START_ARRAY"
    if isinstance(value, bool):
        return "VALUE_BOOLEAN"
    if isinstance(value, str):
        return "VALUE_STRING"
    if isinstance(value, int | float):
        return "VALUE_NUMBER"
    return "VALUE_NULL"


def _expect_object(value: Any, message: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise parse_exception(f"{message}, but found [{token_name(value)}]")
    return value


# ---------------------------------------------------------------------------- time values

_TIME_UNITS_MS = {
    "nanos": 1e-6,
    "micros": 1e-3,
    "ms": 1,
    "s": 1000,
    "m": 60_000,
    "h": 3_600_000,
    "d": 86_400_000,
    "w": 604_800_000,
}
_TIME_RE = re.compile(r"^(-?\d+(?:\.\d+)?)(nanos|micros|ms|s|m|h|d|w)$")


def parse_time_millis(value: Any, field: str) -> int:
    """Parse an ES `TimeValue` string (§2.1 T4: units, fractions, case-insensitive, "0")."""
    if isinstance(value, bool) or not isinstance(value, str):
        raise parse_exception(
            "could not parse time value. expected either a string or a null value but found "
            f"[{token_name(value)}] instead"
        )
    text = value.strip().lower()
    if text in ("0", "-1"):
        return int(text)
    match = _TIME_RE.match(text)
    if match is None:
        raise parse_exception(
            f"failed to parse setting [{field}] with value [{value}] as a time value: "
            "unit is missing or unrecognized"
        )
    millis = float(match.group(1)) * _TIME_UNITS_MS[match.group(2)]
    if millis < 0:
        raise parse_exception(
            f"failed to parse setting [{field}] with value [{value}] as a time value: "
            "negative durations are not supported"
        )
    return int(millis)


def _millis_field(value: Any, field: str) -> int:
    """`*_in_millis` keys: a number, or a string of digits (§2.1 T5)."""
    if isinstance(value, bool):
        raise parse_exception(f"could not parse [{field}]. expected a number")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value.strip())
    raise parse_exception(f"could not parse [{field}]. expected a number")


# ---------------------------------------------------------------------------- scripts/templates


def parse_script(value: Any, default_lang: str) -> dict[str, Any]:
    """Script shorthand and object form (§2.7, C5, C6, C7)."""
    if isinstance(value, str):
        return {"source": value, "lang": default_lang}  # §2.4 C5
    if not isinstance(value, dict):
        raise parse_exception(
            f"expected a script as a string or an object, but found [{token_name(value)}]"
        )
    source: Any = _MISSING
    stored_id: Any = _MISSING
    lang: Any = _MISSING
    options: dict[str, Any] = {}
    params: dict[str, Any] = {}
    for key, item in value.items():
        if key in ("source", "inline"):
            source = item
        elif key == "id":
            stored_id = item
        elif key == "lang":
            lang = item
        elif key == "options":
            options = dict(_expect_object(item, "[options] must be an object"))
        elif key == "params":
            params = hashmap_order(_expect_object(item, "[params] must be an object"))
        else:
            raise illegal_argument(f"[script] unknown field [{key}]")
    if source is _MISSING and stored_id is _MISSING:
        raise illegal_argument(
            "must specify either [source] for an inline script or [id] for a stored script"
        )
    out: dict[str, Any] = {}
    if source is not _MISSING:
        out["source"] = source
        out["lang"] = default_lang if lang is _MISSING else lang  # §2.4 C6
        if isinstance(source, dict | list):
            # §2.7: an object source is kept raw and gains the JSON content type option.
            options.setdefault("content_type", "application/json")
    else:
        out["id"] = stored_id  # §2.4 C7: a stored script has no lang
    if options:
        out["options"] = options
    if params:
        out["params"] = params  # §2.4 C6: empty params are not written
    return out


def parse_text_template(value: Any) -> Any:
    """A TextTemplate: a plain string stays a string, an object is a mustache script (§2.7)."""
    if isinstance(value, dict):
        return parse_script(value, "mustache")
    return value


# ---------------------------------------------------------------------------- trigger / schedule

_INTERVAL_UNITS = {
    "s": ("seconds", 1),
    "m": ("minutes", 60),
    "h": ("hours", 3600),
    "d": ("days", 86400),
    "w": ("weeks", 604800),
}
_DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
_DAY_ALIASES = {
    **{d.lower(): d for d in _DAYS},
    "sunday": "SUN",
    "monday": "MON",
    "tuesday": "TUE",
    "wednesday": "WED",
    "thursday": "THU",
    "friday": "FRI",
    "saturday": "SAT",
    **{str(i + 1): d for i, d in enumerate(_DAYS)},
}
_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_MONTH_FULL = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_MONTH_ALIASES = {
    **{m.lower(): m for m in _MONTHS},
    **{full: _MONTHS[i] for i, full in enumerate(_MONTH_FULL)},
    **{str(i + 1): m for i, m in enumerate(_MONTHS)},
    "first": "JAN",  # §2.2 S11: ES's Month.resolve takes these two words as well
    "last": "DEC",
}


def _interval(value: Any) -> str:
    """Interval schedules (§2.2 S2, S3, S4)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise parse_exception(
            "could not parse [interval] schedule. expected either a numeric value "
            f"(millis) or a string value representing time value (e.g. '5s'), but found "
            f"[{token_name(value)}]"
        )
    if isinstance(value, int):
        text, seconds = f"{value}s", value  # §2.2 S2: a number is seconds
    elif value.isdigit():
        text, seconds = f"{value}s", int(value)
    else:
        unit = value[-1:].lower()
        if unit not in _INTERVAL_UNITS:
            raise parse_exception(
                f"could not parse [interval] schedule. unrecognized interval format [{value}]"
            )
        name, factor = _INTERVAL_UNITS[unit]
        number = value[:-1]
        if not number.isdigit():
            raise parse_exception(
                f"could not parse [interval] schedule. could not parse [{number}] as a "
                f"[{name}] duration"
            )  # §2.2 S4: no ms unit, integers only
        text, seconds = value, int(number) * factor  # §2.2 S3: the unit is kept as given
    if seconds < 1:
        raise parse_exception(
            f"interval can't be lower than 1000 ms, but [{text}] was specified"
        )  # §2.2 S4: minimum 1 s
    return text


_CRON_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("seconds", 0, 59, {}),
    ("minutes", 0, 59, {}),
    ("hours", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, {m: i + 1 for i, m in enumerate(_MONTHS)}),
    ("day of week", 1, 7, {d: i + 1 for i, d in enumerate(_DAYS)}),
    ("year", 1970, 2199, {}),
)


def _cron_value(token: str, low: int, high: int, names: dict[str, int]) -> bool:
    if token in names:
        return True
    return token.isdigit() and low <= int(token) <= high


def _valid_cron_field(text: str, index: int) -> bool:
    _, low, high, names = _CRON_FIELDS[index]
    if text == "?" and index in (3, 5):
        return True
    for part in text.split(","):
        base, _, step = part.partition("/")
        if step and not step.isdigit():
            return False
        if base in ("*", "") and (base or step):
            continue
        if (index == 3 and base in ("L", "LW")) or (index == 3 and re.fullmatch(r"L-\d+", base)):
            continue
        if index == 3 and base.endswith("W") and _cron_value(base[:-1], low, high, names):
            continue
        if index == 5 and "#" in base:
            day, _, nth = base.partition("#")
            if _cron_value(day, low, high, names) and nth in ("1", "2", "3", "4", "5"):
                continue
            return False
        if (
            index == 5
            and base.endswith("L")
            and (base == "L" or _cron_value(base[:-1], low, high, names))
        ):
            continue
        first, dash, last = base.partition("-")
        if not _cron_value(first, low, high, names):
            return False
        if dash and not _cron_value(last, low, high, names):
            return False
    return True


def _cron(expression: Any) -> str:
    """Validate a Quartz-style cron and return it upper-cased (§2.2 S5)."""
    if not isinstance(expression, str):
        raise parse_exception(
            "could not parse [cron] schedule. cron schedule must either be a string or an array"
        )
    upper = expression.strip().upper()
    fields = upper.split()
    valid = 6 <= len(fields) <= 7 and all(_valid_cron_field(f, i) for i, f in enumerate(fields))
    if valid:
        # Quartz: exactly one of day-of-month / day-of-week must be '?'.
        valid = (fields[3] == "?") != (fields[5] == "?")
    if not valid:
        raise parse_exception(
            "could not parse [cron] schedule",
            caused_by=illegal_argument(f"invalid cron expression [{expression}]"),
        )
    return upper


def _cron_schedule(value: Any) -> Any:
    if isinstance(value, list):
        crons = sorted(_cron(v) for v in value)  # §2.2 S6: sorted by expression
        return crons[0] if len(crons) == 1 else crons
    return _cron(value)


def _int_list(
    value: Any, low: int, high: int, what: str, schedule: str, *, unique: bool = True
) -> list[int]:
    items = value if isinstance(value, list) else [value]
    out: list[int] = []
    for item in items:
        number: int | None = None
        if isinstance(item, int) and not isinstance(item, bool):
            number = item
        elif isinstance(item, str) and item.strip().isdigit():
            number = int(item.strip())
        if number is None or not low <= number <= high:
            raise parse_exception(
                f"could not parse [{schedule}] schedule. invalid value for [{what}] [{item}]. "
                f"value must be between {low} and {high}"
            )
        if not unique or number not in out:
            out.append(number)
    return out


def _hourly(value: Any) -> dict[str, Any]:
    obj = _expect_object(value, "could not parse [hourly] schedule. expected an object")
    minutes: list[int] = [0]  # §2.2 S7: default minute 0
    for key, item in obj.items():
        if key == "minute":
            minutes = _int_list(item, 0, 59, "minute", "hourly")  # §2.2 S7: always an int array
        else:
            raise parse_exception(f"could not parse [hourly] schedule. unexpected field [{key}]")
    return {"minute": minutes}


_HH_MM = re.compile(r"^(\d{1,2}):(\d{2})$")


def _day_time(value: Any, schedule: str) -> Any:
    """One entry of an `at` list: a string kept as given, or an hour/minute object."""
    if isinstance(value, str):
        match = _HH_MM.match(value)
        ok = value in ("noon", "midnight") or (
            match is not None and int(match.group(1)) <= 23 and int(match.group(2)) <= 59
        )
        if not ok:
            raise parse_exception(
                f"could not parse [{schedule}] schedule. invalid time [{value}]. time must be "
                "in the HH:mm format (e.g. 13:30), or 'noon'/'midnight'"
            )
        return value  # §2.2 S8: the string is kept, wrapped in an array
    obj = _expect_object(value, f"could not parse [{schedule}] schedule. invalid time value")
    hours: list[int] = [0]
    minutes: list[int] = [0]
    for key, item in obj.items():
        # ES's DayTimes reads `hour` / `minute` into lists: duplicates and order are kept.
        if key == "hour":
            hours = _int_list(item, 0, 23, "hour", schedule, unique=False)
        elif key == "minute":
            minutes = _int_list(item, 0, 59, "minute", schedule, unique=False)
        # §2.2 S13: unknown keys inside an `at` object (even `hours`) are silently dropped
    return {"hour": hours or [0], "minute": minutes or [0]}  # an empty list is the default


def _at_list(value: Any, schedule: str) -> list[Any]:
    items = value if isinstance(value, list) else [value]
    out: list[Any] = []
    for item in items:
        parsed = _day_time(item, schedule)
        if parsed not in out:  # §2.2 S12: a set of times, duplicates removed
            out.append(parsed)
    return out


def _daily(value: Any) -> dict[str, Any]:
    obj = _expect_object(value, "could not parse [daily] schedule. expected an object")
    at: list[Any] = []
    for key, item in obj.items():
        if key == "at":
            at = _at_list(item, "daily")
        else:
            raise parse_exception(f"could not parse [daily] schedule. unexpected field [{key}]")
    return {"at": at or ["midnight"]}  # §2.2 S8: absent or empty -> midnight


def _names(items: list[Any], aliases: dict[str, str], order: list[str], what: str) -> list[str]:
    found: set[str] = set()
    for item in items:
        key = str(item).lower()  # ES lower-cases but does not trim
        if key not in aliases:
            raise parse_exception(f"could not parse [{what}]. unknown value [{item}]")
        found.add(aliases[key])
    return [name for name in order if name in found]


def _days_of_month(items: list[Any], schedule: str) -> list[int]:
    days: set[int] = set()
    for item in items:
        named = item.lower() if isinstance(item, str) else None
        if named == "first_day":
            days.add(1)
        elif named == "last_day":
            days.add(32)  # §2.2 S10: last_day is rendered as 32
        else:
            # ES checks 1..32 only after parsing, so a literal 32 means the last day too.
            days.update(_int_list(item, 1, 32, "on", schedule))
    return sorted(days)  # §2.2 S10: sorted unique ints


_DEFAULT_AT = [{"hour": [0], "minute": [0]}]
#: The keys of week/month/year times and the field each feeds; the second names are ES's
#: deprecated aliases, read into the same set as the first.
_CALENDAR_FIELDS = {"on": "on", "day": "on", "at": "at", "time": "at", "in": "in", "month": "in"}


def _scalar_or_scalars(value: Any) -> bool:
    items = value if isinstance(value, list) else [value]
    return not any(isinstance(i, dict | list) for i in items)


def _calendar(value: Any, schedule: str) -> list[dict[str, Any]]:
    """weekly / monthly / yearly: always an array of times objects (§2.2 S9, S10, S11)."""
    items = value if isinstance(value, list) else [value]
    out: list[dict[str, Any]] = []
    for item in items or [{}]:  # §2.2 S11: an empty array is the default schedule
        obj = _expect_object(item, f"could not parse [{schedule}] schedule. expected an object")
        fields: dict[str, list[Any]] = {"in": [], "on": [], "at": []}
        for key, sub in obj.items():
            field = _CALENDAR_FIELDS.get(key)
            if field == "in" and schedule != "yearly":
                field = None
            if field is None:
                if _scalar_or_scalars(sub):
                    continue  # §2.2 S11: ES's times parsers skip unknown keys with plain values
                # An object here derails ES's token loop in ways not worth emulating [uncertain].
                raise parse_exception(
                    f"could not parse [{schedule}] schedule. unexpected field [{key}]"
                )
            fields[field].extend(sub if isinstance(sub, list) else [sub])
        entry: dict[str, Any] = {}  # §2.2 S11: key order in, on, at
        if schedule == "yearly":
            entry["in"] = _names(fields["in"], _MONTH_ALIASES, _MONTHS, "month") or ["JAN"]
        if schedule == "weekly":
            entry["on"] = _names(fields["on"], _DAY_ALIASES, _DAYS, "day of week") or ["MON"]
        else:
            entry["on"] = _days_of_month(fields["on"], schedule) or [1]  # §2.2 S10, S11
        entry["at"] = _at_list(fields["at"], schedule) or list(_DEFAULT_AT)  # §2.2 S9: default
        out.append(entry)
    return out


_SCHEDULE_PARSERS: dict[str, Callable[[Any], Any]] = {
    "interval": _interval,
    "cron": _cron_schedule,
    "hourly": _hourly,
    "daily": _daily,
    "weekly": lambda v: _calendar(v, "weekly"),
    "monthly": lambda v: _calendar(v, "monthly"),
    "yearly": lambda v: _calendar(v, "yearly"),
}


@lru_cache(maxsize=1)
def _zones() -> dict[str, str]:
    return {name.lower(): name for name in zoneinfo.available_timezones()}


_OFFSET_ZONE = re.compile(r"^(?:Z|(?:UTC|GMT|UT)?[+-]\d{1,2}(?::?\d{2})?)$", re.IGNORECASE)


def _timezone(value: Any) -> str:
    """§2.2 S14: a java.time zone id, looked up case-insensitively."""
    text = str(value)
    canonical = _zones().get(text.lower())
    if canonical is not None:
        return canonical
    if text.upper() in ("UTC", "GMT", "UT", "Z") or _OFFSET_ZONE.match(text):
        return text
    raise parse_exception(
        f"could not parse schedule. invalid timezone [{text}]",
        caused_by=EsError(
            400, "zone_rules_exception", f"Unknown time-zone ID: {text}", foreign=True
        ),
    )


def _parse_schedule(value: Any, ctx: ParseContext) -> dict[str, Any]:
    obj = _expect_object(
        value, f"could not parse schedule for [{ctx.watch_id}]. expected an object"
    )
    chosen: tuple[str, Any] | None = None
    zone: str | None = None
    for key, item in obj.items():
        if key == "timezone" and ctx.timezone_supported:
            zone = _timezone(item)
            continue
        parser = _SCHEDULE_PARSERS.get(key)
        if parser is None:
            raise parse_exception(
                f"could not parse schedule for [{ctx.watch_id}]. unknown schedule type [{key}]"
            )
        try:
            chosen = (key, parser(item))  # §2.2 S1: the last schedule type wins
        except EsError as err:
            if err.reason.startswith("could not parse [cron]"):
                raise
            raise parse_exception(f"could not parse schedule: {err.reason}", caused_by=err) from err
    if chosen is None:
        raise parse_exception(
            f"could not parse schedule for [{ctx.watch_id}]. missing schedule type"
        )
    if zone is not None and chosen[0] == "interval":
        raise parse_exception("Timezone is not supported for schedule type [interval]")
    out = {chosen[0]: chosen[1]}
    if zone is not None:
        out["timezone"] = zone  # §2.2 S14: returned as given (canonical case); absent -> no key
    return out


def _parse_trigger(value: Any, ctx: ParseContext) -> dict[str, Any]:
    obj = _expect_object(
        value,
        f"could not parse trigger for [{ctx.watch_id}]. expected an object representing the "
        "trigger",
    )
    if not obj:
        raise parse_exception(f"could not parse trigger for [{ctx.watch_id}]. missing trigger type")
    chosen: dict[str, Any] = {}
    for key, item in obj.items():
        if key != "schedule":  # only the schedule trigger exists (§2.2)
            raise parse_exception(
                f"could not parse trigger [{key}] for [{ctx.watch_id}]. unknown trigger type "
                f"[{key}]"
            )
        chosen = {"schedule": _parse_schedule(item, ctx)}
    return chosen


# ---------------------------------------------------------------------------- search requests

_SEARCH_TYPES = ("query_then_fetch", "dfs_query_then_fetch")
_EXPAND = ("open", "closed", "hidden")
_DEFAULT_INDICES_OPTIONS = {
    "ignore_unavailable": True,
    "allow_no_indices": True,
    "expand_wildcards": ["open"],
    "ignore_throttled": False,
}


def _bool(value: Any, field: str) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return bool(value == "true")  # §2.3 Q4: "true"/"false" strings accepted
    raise parse_exception(f"could not read search request. failed to parse [{field}] as boolean")


def _expand_wildcards(value: Any) -> list[str]:
    items = value if isinstance(value, list) else str(value).split(",")
    found: set[str] = set()
    for item in items:
        word = str(item).strip().lower()
        if word == "all":
            found.update(_EXPAND)
        elif word in _EXPAND:
            found.add(word)
        elif word != "none":
            raise illegal_argument(f"No enum constant for expand_wildcards [{item}]")
    return [w for w in _EXPAND if w in found]  # §2.3 Q8: canonical order


def _indices_options(value: Any, ctx: ParseContext) -> dict[str, Any] | None:
    obj = _expect_object(value, "could not read indices options. expected an object")
    opts = dict(_DEFAULT_INDICES_OPTIONS)
    for key, item in obj.items():
        if key == "expand_wildcards":
            opts[key] = _expand_wildcards(item)
        elif key in ("ignore_unavailable", "allow_no_indices", "ignore_throttled"):
            opts[key] = _bool(item, key)
        else:
            raise parse_exception(
                f"could not read indices options. unexpected object field [{key}]"
            )
    if opts == _DEFAULT_INDICES_OPTIONS:
        return None  # §2.3 Q7: the default options are not written
    order = (
        ("ignore_unavailable", "expand_wildcards", "allow_no_indices", "ignore_throttled")
        if ctx.modern_indices_options
        else ("expand_wildcards", "ignore_unavailable", "allow_no_indices", "ignore_throttled")
    )  # §2.3 Q8: the full set, in the serializer's order
    return {key: opts[key] for key in order}


def _search_request(value: Any, ctx: ParseContext) -> dict[str, Any]:
    obj = _expect_object(value, "could not read search request. expected an object")
    search_type = "query_then_fetch"  # §2.3 Q1: default search type
    indices: list[str] = []  # §2.3 Q2: always an array
    total_as_int = True  # §2.3 Q4: default true
    body: Any = _MISSING
    options: dict[str, Any] | None = None
    template: Any = _MISSING
    for key, item in obj.items():
        if key == "search_type":
            search_type = str(item).lower()  # §2.3 Q1: lower-cased
            if search_type not in _SEARCH_TYPES:
                raise illegal_argument(f"No search type for [{item}]")
        elif key == "indices":
            if isinstance(item, str):
                indices = [p.strip() for p in item.split(",") if p.strip()]  # §2.3 Q3
            elif isinstance(item, list):
                indices = [str(i) for i in item]
            else:
                raise parse_exception(
                    "could not read search request. expected an array or a string for [indices]"
                )
        elif key == "types":
            if item not in ([], None, ""):
                raise parse_exception(
                    "could not read search request. types are no longer supported"
                )  # §2.3 Q5: non-empty types rejected, empty dropped
        elif key == "rest_total_hits_as_int":
            total_as_int = _bool(item, key)  # §2.3 Q4: explicit false kept
        elif key == "body":
            body = _expect_object(
                item, "could not read search request. expected an object for [body]"
            )
        elif key == "indices_options":
            options = _indices_options(item, ctx)
        elif key == "template":
            template = parse_script(item, "mustache")  # §2.3 Q9
        else:
            raise parse_exception(
                f"could not read search request. unexpected {json_kind(item)} field [{key}]"
            )
    out: dict[str, Any] = {  # §2.3 Q10: key order
        "search_type": search_type,
        "indices": indices,
        "rest_total_hits_as_int": total_as_int,
    }
    if body is not _MISSING:
        out["body"] = body  # §2.3 Q6: raw JSON, original key order, not validated
    if options is not None:
        out["indices_options"] = options
    if template is not _MISSING:
        out["template"] = template
    return out


def json_kind(value: Any) -> str:
    """Name a JSON value's kind the way ES's parse errors do."""
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return "string" if isinstance(value, str) else "value"


def _extract(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items:
        if str(item) not in out:
            out.append(str(item))  # §2.3 Q12: a set, duplicates removed
    return out


def _search_common(
    obj: dict[str, Any], ctx: ParseContext, what: str, allow_extract: bool
) -> dict[str, Any]:
    request: dict[str, Any] | None = None
    extract: list[str] | None = None
    timeout: int | None = None
    zone: Any = _MISSING
    for key, item in obj.items():
        if key == "request":
            try:
                request = _search_request(item, ctx)
            except EsError as err:
                raise parse_exception(
                    f"could not parse [search] {what} for watch [{ctx.watch_id}]. failed to "
                    "parse [request]",
                    caused_by=err,
                ) from err
        elif key == "extract" and allow_extract:
            extract = _extract(item)
        elif key == "timeout":
            timeout = parse_time_millis(item, "timeout")  # §2.3 Q11
        elif key == "timeout_in_millis":
            timeout = _millis_field(item, key)
        elif key == "dynamic_name_timezone":
            zone = item  # §2.3 Q13
        else:
            raise parse_exception(
                f"could not parse [search] {what} for watch [{ctx.watch_id}]. unexpected field "
                f"[{key}]"
            )
    if request is None:
        raise parse_exception(
            f"could not parse [search] {what} for watch [{ctx.watch_id}]. missing required "
            "[request] field"
        )
    out: dict[str, Any] = {"request": request}
    if extract is not None:
        out["extract"] = extract
    if timeout is not None:
        out["timeout_in_millis"] = timeout
    if zone is not _MISSING:
        out["dynamic_name_timezone"] = zone
    return out


# ---------------------------------------------------------------------------- http requests

_HTTP_METHODS = ("head", "get", "post", "put", "delete")


def _secret(value: Any, field: str, ctx: ParseContext) -> Any:
    """A password field: the redacted marker is refused unless in update mode (§2.10)."""
    if value == REDACTED:
        if not ctx.update_mode:
            raise parse_exception(f"found redacted password in field [{field}]")
        return _MISSING  # dropped, so the deep merge keeps the stored secret
    return value


def _basic_auth(value: Any, ctx: ParseContext) -> dict[str, Any]:
    obj = _expect_object(value, "could not parse http auth. expected an object")
    out: dict[str, Any] = {}
    for auth_type, item in obj.items():
        if auth_type != "basic":
            raise parse_exception(f"could not parse http auth. unknown auth type [{auth_type}]")
        basic = _expect_object(item, "could not parse [basic] auth. expected an object")
        parsed: dict[str, Any] = {}
        for key, sub in basic.items():
            if key == "username":
                parsed["username"] = sub
            elif key == "password":
                secret = _secret(sub, "password", ctx)
                if secret is not _MISSING:
                    parsed["password"] = secret
            else:
                raise parse_exception(f"unsupported field [{key}]")
        if "username" not in parsed:
            raise parse_exception("username is a required option")
        out = {"basic": parsed}
    return out


def _parse_proxy(value: Any) -> dict[str, Any]:
    """An http proxy (webhook, http input, slack, pagerduty, jira; §2.8 PX1)."""
    obj = _expect_object(value, "could not parse http proxy. expected an object")
    port = obj.get("port")
    if isinstance(port, str) and port.strip().isdigit():
        port = int(port.strip())  # ES reads the port with intValue(), which takes digit strings
    if obj.get("host") is None or port is None:
        raise parse_exception("Proxy must contain 'port' and 'host' field")
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65535:
        raise parse_exception(f"Proxy port must be between 1 and 65534, but was {port}")
    out: dict[str, Any] = {"host": str(obj["host"]), "port": port}  # other keys are ignored
    if "scheme" in obj:
        scheme = str(obj["scheme"]).lower()  # §2.8 PX1: the Scheme enum's lower-case name
        if scheme not in ("http", "https"):
            raise illegal_argument(f"unsupported http scheme [{scheme}]")
        out["scheme"] = scheme
    return out


def _template_map(value: Any, what: str) -> dict[str, Any]:
    obj = _expect_object(
        value, f"could not parse http request template. expected an object for [{what}]"
    )
    return {str(k): parse_text_template(v) for k, v in obj.items()}


def http_request_template(value: Any, ctx: ParseContext) -> dict[str, Any]:
    """The webhook action / http input request (§2.8 W1-W10)."""
    obj = _expect_object(value, "could not parse http request template. expected an object")
    fields: dict[str, Any] = {}
    params: dict[str, Any] = {}
    headers: dict[str, Any] = {}
    for key, item in obj.items():
        if key == "url":
            parts = urlsplit(str(item))  # §2.8 W1: decomposed, `url` never returned
            if not parts.scheme or not parts.hostname:
                raise parse_exception(f"could not parse url [{item}]")
            fields["scheme"] = parts.scheme.lower()
            fields["host"] = parts.hostname
            fields["port"] = parts.port or (443 if parts.scheme.lower() == "https" else 80)
            if parts.path:
                fields["path"] = parts.path
            params.update(dict(parse_qsl(parts.query, keep_blank_values=True)))
        elif key == "scheme":
            fields["scheme"] = str(item).lower()  # §2.8 W2
            if fields["scheme"] not in ("http", "https"):
                raise illegal_argument(f"unsupported http scheme [{item}]")
        elif key == "host":
            fields["host"] = item
        elif key == "port":
            fields["port"] = item
        elif key == "method":
            method = str(item).lower()  # §2.8 W2
            if method not in _HTTP_METHODS:
                raise illegal_argument(f"unsupported http method [{str(item).upper()}]")  # W10
            fields["method"] = method
        elif key == "path":
            fields["path"] = parse_text_template(item)
        elif key == "params":
            params.update(_template_map(item, key))
        elif key == "headers":
            headers.update(_template_map(item, key))
        elif key == "auth":
            fields["auth"] = _basic_auth(item, ctx)
        elif key == "body":
            fields["body"] = parse_text_template(item)
        elif key in ("connection_timeout", "connection_timeout_in_millis"):
            fields["connection_timeout_in_millis"] = (
                parse_time_millis(item, key)
                if key == "connection_timeout"
                else _millis_field(item, key)
            )  # §2.8 W5
        elif key in ("read_timeout", "read_timeout_millis"):
            fields["read_timeout_millis"] = (
                parse_time_millis(item, key) if key == "read_timeout" else _millis_field(item, key)
            )  # §2.8 W5: note the `_millis` suffix
        elif key == "proxy":
            fields["proxy"] = _parse_proxy(item)
        else:
            raise parse_exception(
                f"could not parse http request template. unexpected field [{key}]"
            )
    if not isinstance(fields.get("host"), str) or not fields["host"]:
        raise parse_exception(
            "could not parse http request template. missing required [host] string field"
        )  # §2.8 W9
    port = fields.get("port")
    if isinstance(port, bool) or not isinstance(port, int) or port <= 0:
        raise parse_exception(
            "could not parse http request template. missing required [port] numeric field"
        )  # §2.8 W9
    out: dict[str, Any] = {  # §2.8 W8: key order
        "scheme": fields.get("scheme", "http"),  # §2.8 W2: default scheme
        "host": fields["host"],
        "port": port,
        "method": fields.get("method", "get"),  # §2.8 W2: default method
    }
    if "path" in fields:
        out["path"] = fields["path"]
    out["params"] = hashmap_order(params)  # §2.8 W3, W4: always present, unordered
    out["headers"] = hashmap_order(headers)
    for key in ("auth", "body", "connection_timeout_in_millis", "read_timeout_millis", "proxy"):
        if key in fields:
            out[key] = fields[key]
    return out


# ---------------------------------------------------------------------------- inputs


def _input_none(value: Any, ctx: ParseContext) -> dict[str, Any]:
    _expect_object(
        value, f"could not parse [none] input for watch [{ctx.watch_id}]. expected an empty object"
    )
    return {}


def _input_simple(value: Any, ctx: ParseContext) -> dict[str, Any]:
    obj = _expect_object(
        value, f"could not parse [simple] input for watch [{ctx.watch_id}]. expected an object"
    )
    return dict(hashmap_order(obj))  # §2.3 simple: a HashMap


def _input_search(value: Any, ctx: ParseContext) -> dict[str, Any]:
    obj = _expect_object(
        value, f"could not parse [search] input for watch [{ctx.watch_id}]. expected an object"
    )
    return _search_common(obj, ctx, "input", allow_extract=True)


def _input_http(value: Any, ctx: ParseContext) -> dict[str, Any]:
    obj = _expect_object(
        value, f"could not parse [http] input for watch [{ctx.watch_id}]. expected an object"
    )
    request: dict[str, Any] | None = None
    extract: list[str] | None = None
    content_type: Any = _MISSING
    for key, item in obj.items():
        if key == "request":
            try:
                request = http_request_template(item, ctx)
            except EsError as err:
                if err.reason.startswith("found redacted password"):
                    raise
                raise parse_exception(
                    f"could not parse [http] input for watch [{ctx.watch_id}]. failed to parse "
                    "http request template",
                    caused_by=err,
                ) from err
        elif key == "extract":
            extract = _extract(item)  # §2.3 http: like Q12
        elif key == "response_content_type":
            content_type = str(item).lower()
            if content_type not in ("json", "yaml", "text"):
                raise illegal_argument(f"unsupported content type [{item}]")
        else:
            raise parse_exception(
                f"could not parse [http] input for watch [{ctx.watch_id}]. unexpected field [{key}]"
            )
    if request is None:
        raise parse_exception(
            f"could not parse [http] input for watch [{ctx.watch_id}]. missing require "
            "[request] field"
        )
    out: dict[str, Any] = {"request": request}
    if extract is not None:
        out["extract"] = extract
    if content_type is not _MISSING:
        out["response_content_type"] = content_type
    return out


def _input_chain(value: Any, ctx: ParseContext) -> dict[str, Any]:
    obj = _expect_object(
        value, f"could not parse [chain] input for watch [{ctx.watch_id}]. expected an object"
    )
    inputs = obj.get("inputs")
    if not isinstance(inputs, list) or set(obj) != {"inputs"}:
        raise parse_exception(
            f"could not parse [chain] input for watch [{ctx.watch_id}]. expected an [inputs] array"
        )
    out: list[dict[str, Any]] = []
    for entry in inputs:  # §2.3 chain: list order kept, each sub-input normalized
        named = _expect_object(entry, "could not parse [chain] input. expected an object")
        out.append({name: parse_input(sub, ctx) for name, sub in named.items()})
    return {"inputs": out}


_INPUT_PARSERS: dict[str, Callable[[Any, ParseContext], dict[str, Any]]] = {
    "none": _input_none,
    "simple": _input_simple,
    "search": _input_search,
    "http": _input_http,
    "chain": _input_chain,
}


def parse_input(value: Any, ctx: ParseContext) -> dict[str, Any]:
    obj = _expect_object(
        value, f"could not parse input for watch [{ctx.watch_id}]. expected an object"
    )
    if not obj:
        raise parse_exception(
            f"could not parse input for watch [{ctx.watch_id}]. expected field indicating the "
            "input type, but found an empty object instead"
        )
    chosen: dict[str, Any] = {}
    for key, item in obj.items():
        parser = _INPUT_PARSERS.get(key)
        if parser is None:
            raise parse_exception(
                f"could not parse input for watch [{ctx.watch_id}]. unknown input type [{key}]"
            )
        chosen = {key: parser(item, ctx)}  # §2.3: several input types -> the last wins
    return chosen


# ---------------------------------------------------------------------------- conditions

_COMPARE_OPS = ("eq", "not_eq", "lt", "lte", "gt", "gte")


def _condition_compare(value: Any, ctx: ParseContext) -> dict[str, Any]:
    obj = _expect_object(
        value, f"could not parse [compare] condition for watch [{ctx.watch_id}]. expected an object"
    )
    chosen: dict[str, Any] = {}
    for path, spec in obj.items():
        ops = _expect_object(
            spec,
            f"could not parse [compare] condition for watch [{ctx.watch_id}]. expected an object "
            f"for field [{path}]",
        )
        parsed: dict[str, Any] = {}
        for op, operand in ops.items():
            name = op.lower()  # §2.4 C3: operator lower-cased
            if name not in _COMPARE_OPS:
                raise parse_exception(
                    f"could not parse [compare] condition for watch [{ctx.watch_id}]. unknown "
                    f"comparison operator [{op}]"
                )
            parsed = {name: operand}
        chosen = {path: parsed}  # §2.4 C4: only the last path is kept
    if not chosen:
        raise parse_exception(
            f"could not parse [compare] condition for watch [{ctx.watch_id}]. expected a field"
        )
    return chosen


def _condition_array_compare(value: Any, ctx: ParseContext) -> dict[str, Any]:
    # §2.4 C10: not researched in detail; operators lower-cased like compare.
    obj = _expect_object(value, "could not parse [array_compare] condition. expected an object")
    out: dict[str, Any] = {}
    for path, spec in obj.items():
        inner = _expect_object(
            spec, "could not parse [array_compare] condition. expected an object"
        )
        out[path] = {k if k == "path" else k.lower(): v for k, v in inner.items()}
    return out


def _condition_empty(name: str) -> Callable[[Any, ParseContext], dict[str, Any]]:
    def parse(value: Any, ctx: ParseContext) -> dict[str, Any]:
        _expect_object(
            value,
            f"could not parse [{name}] condition for watch [{ctx.watch_id}]. expected an empty "
            "object",
        )
        return {}  # §2.4 C9

    return parse


def _condition_script(value: Any, ctx: ParseContext) -> dict[str, Any]:
    return parse_script(value, "painless")  # §2.4 C5, C6


_CONDITION_PARSERS: dict[str, Callable[[Any, ParseContext], dict[str, Any]]] = {
    "always": _condition_empty("always"),
    "never": _condition_empty("never"),
    "compare": _condition_compare,
    "array_compare": _condition_array_compare,
    "script": _condition_script,
}


def parse_condition(value: Any, ctx: ParseContext) -> dict[str, Any]:
    obj = _expect_object(
        value, f"could not parse condition for watch [{ctx.watch_id}]. expected an object"
    )
    if not obj:
        raise parse_exception(
            f"could not parse condition for watch [{ctx.watch_id}]. missing required condition "
            "type field"
        )  # §2.4 C1
    chosen: dict[str, Any] = {}
    for key, item in obj.items():
        parser = _CONDITION_PARSERS.get(key)
        if parser is None:
            raise parse_exception(
                f"could not parse condition for watch [{ctx.watch_id}]. unknown condition type "
                f"[{key}]"
            )
        chosen = {key: parser(item, ctx)}  # §2.4 C2: last wins
    return chosen


# ---------------------------------------------------------------------------- transforms


def _transform_search(value: Any, ctx: ParseContext) -> Any:
    obj = _expect_object(value, "could not parse [search] transform. expected an object")
    return _search_common(obj, ctx, "transform", allow_extract=False)  # §2.5


def _transform_chain(value: Any, ctx: ParseContext) -> Any:
    if not isinstance(value, list):
        raise parse_exception(
            f"could not parse [chain] transform for watch [{ctx.watch_id}]. expected an array"
        )
    out: list[dict[str, Any]] = []
    for item in value:
        parsed = parse_transform(item, ctx)
        if parsed is not None:
            out.append(parsed)
    return out


_TRANSFORM_PARSERS: dict[str, Callable[[Any, ParseContext], Any]] = {
    "script": lambda v, ctx: parse_script(v, "painless"),  # §2.5: like C5/C6
    "search": _transform_search,
    "chain": _transform_chain,
}


def parse_transform(value: Any, ctx: ParseContext) -> dict[str, Any] | None:
    obj = _expect_object(
        value, f"could not parse transform for watch [{ctx.watch_id}]. expected an object"
    )
    chosen: dict[str, Any] | None = None  # §2.1 T11 / §2.6 A3: `{}` is dropped
    for key, item in obj.items():
        parser = _TRANSFORM_PARSERS.get(key)
        if parser is None:
            raise parse_exception(
                f"could not parse transform for watch [{ctx.watch_id}], unknown transform type "
                f"[{key}]"
            )
        chosen = {key: parser(item, ctx)}
    return chosen


# ---------------------------------------------------------------------------- actions

_LOG_LEVELS = ("error", "warn", "info", "debug", "trace")
_EMAIL_PROFILES = ("standard", "outlook", "gmail")
_EMAIL_PRIORITIES = ("lowest", "low", "normal", "high", "highest")
_EMAIL_ADDRESS = re.compile(r"^(?:[^<>@\s]+@[^<>@\s]+|[^<>]*<[^<>@\s]+@[^<>@\s]+>)$")


def _action_logging(value: Any, ctx: ParseContext, where: str) -> dict[str, Any]:
    obj = _expect_object(value, f"could not parse [logging] action [{where}]. expected an object")
    fields: dict[str, Any] = {}
    for key, item in obj.items():
        if key == "text":
            fields["text"] = parse_text_template(item)
        elif key == "category":
            fields["category"] = item
        elif key == "level":
            level = str(item).lower()  # §2.8 logging: lower-cased
            if level not in _LOG_LEVELS:
                raise parse_exception(
                    f"could not parse [logging] action [{where}]. unknown logging level [{item}]"
                )
            fields["level"] = level
        else:
            raise parse_exception(
                f"could not parse [logging] action [{where}]. unexpected token [{key}]"
            )
    if "text" not in fields:
        raise parse_exception(
            f"could not parse [logging] action [{where}]. missing required [text] field"
        )
    out: dict[str, Any] = {}
    if "category" in fields:
        out["category"] = fields["category"]
    out["level"] = fields.get("level", "info")  # §2.8 logging: default level info
    out["text"] = fields["text"]
    return out


_INDEX_ORDER = (
    "index",
    "doc_id",
    "op_type",
    "execution_time_field",
    "timeout_in_millis",
    "dynamic_name_timezone",
    "refresh",
)


def _action_index(value: Any, ctx: ParseContext, where: str) -> dict[str, Any]:
    obj = _expect_object(value, f"could not parse [index] action [{where}]. expected an object")
    fields: dict[str, Any] = {}
    for key, item in obj.items():
        if key in ("index", "doc_id", "execution_time_field", "dynamic_name_timezone"):
            fields[key] = item
        elif key == "op_type":
            op = str(item).lower()
            if op not in ("index", "create"):
                raise parse_exception(
                    f"could not parse [index] action [{where}]. op_type value for field "
                    f"[op_type] must be [index] or [create]"
                )
            fields[key] = op.upper()  # §2.8 index: enum toString, upper-case [uncertain]
        elif key == "timeout":
            fields["timeout_in_millis"] = parse_time_millis(item, "timeout")
        elif key == "timeout_in_millis":
            fields["timeout_in_millis"] = _millis_field(item, key)
        elif key == "refresh":
            fields[key] = str(item).lower()
        else:
            raise parse_exception(
                f"could not parse [index] action [{where}]. unexpected field [{key}]"
            )
    return {key: fields[key] for key in _INDEX_ORDER if key in fields}


def _addresses(value: Any, where: str) -> list[Any]:
    items = value if isinstance(value, list) else [value]  # §2.8 email: one string -> a list
    for item in items:
        if isinstance(item, str) and "{{" not in item and not _EMAIL_ADDRESS.match(item.strip()):
            raise parse_exception(
                f"could not parse [email] action [{where}]. invalid email address [{item}]"
            )
    return [parse_text_template(i) for i in items]


_EMAIL_ORDER = (
    "account",
    "user",
    "password",
    "profile",
    "attach_data",
    "attachments",
    "from",
    "reply_to",
    "priority",
    "to",
    "cc",
    "bcc",
    "subject",
    "body",
)


def _action_email(value: Any, ctx: ParseContext, where: str) -> dict[str, Any]:
    obj = _expect_object(value, f"could not parse [email] action [{where}]. expected an object")
    fields: dict[str, Any] = {}
    for key, item in obj.items():
        if key in ("account", "user"):
            fields[key] = item
        elif key == "password":
            secret = _secret(item, "password", ctx)
            if secret is not _MISSING:
                fields[key] = secret
        elif key == "profile":
            profile = str(item).lower()  # §2.8 email: profile names lower-cased
            if profile not in _EMAIL_PROFILES:
                raise illegal_argument(f"unsupported email profile [{item}]")
            fields[key] = profile
        elif key == "attach_data":
            if item is True:
                fields[key] = {"format": "yaml"}  # §2.8 email: true -> yaml format
            elif isinstance(item, dict):
                fields[key] = {"format": str(item.get("format", "yaml")).lower()}
        elif key == "attachments":
            attachments = _expect_object(
                item, f"could not parse [email] action [{where}]. attachments must be an object"
            )
            if attachments:
                fields[key] = attachments  # §2.8 email: empty attachments dropped
        elif key == "from":
            fields[key] = parse_text_template(item)
        elif key in ("to", "cc", "bcc", "reply_to"):
            fields[key] = _addresses(item, where)
        elif key == "priority":
            priority = str(item).lower()
            if priority not in _EMAIL_PRIORITIES:
                raise illegal_argument(f"unknown email priority [{item}]")
            fields[key] = priority
        elif key == "subject":
            fields[key] = parse_text_template(item)
        elif key == "body":
            if isinstance(item, dict):
                body = {k: parse_text_template(item[k]) for k in ("text", "html") if k in item}
                fields[key] = body
            else:
                fields[key] = {"text": parse_text_template(item)}  # §2.8 email: string body
        else:
            raise parse_exception(
                f"could not parse [email] action [{where}]. unexpected string field [{key}]"
            )
    fields.setdefault("profile", "standard")  # §2.8 email: the profile is always written
    return {key: fields[key] for key in _EMAIL_ORDER if key in fields}


def _action_webhook(value: Any, ctx: ParseContext, where: str) -> dict[str, Any]:
    try:
        return http_request_template(value, ctx)
    except EsError as err:
        if err.reason.startswith("found redacted password"):
            raise
        raise parse_exception(
            f"could not parse [webhook] action [{where}]. failed parsing http request template",
            caused_by=err,
        ) from err


def _one_or_many(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _ordered(fields: dict[str, Any], order: tuple[str, ...]) -> dict[str, Any]:
    return {key: fields[key] for key in order if key in fields}


def _account(value: Any, action: str, where: str) -> str:
    if not isinstance(value, str):
        raise parse_exception(
            f"failed to parse [{action}] action [{where}]. expected [account] to be of type "
            f"string, but found [{token_name(value)}] instead"
        )
    return value


_SLACK_BUTTON_KEYS = ("name", "style", "type", "text", "url")


def _slack_button(value: Any) -> dict[str, Any]:
    obj = _expect_object(value, "[action] expected an object")
    for key, item in obj.items():
        if key not in _SLACK_BUTTON_KEYS:
            raise illegal_argument(f"[action] unknown field [{key}]")
        if not isinstance(item, str):
            raise illegal_argument(
                f"[action] {key} doesn't support values of type: {token_name(item)}"
            )
    # §2.8 SL3: all five keys are written, an absent one as null [uncertain: ES may then fail
    # to read the watch back, its parser refuses null there]
    return {key: obj.get(key) for key in _SLACK_BUTTON_KEYS}


def _slack_field(value: Any) -> dict[str, Any]:
    obj = _expect_object(value, "could not parse message attachment field. expected an object")
    fields: dict[str, Any] = {"short": False}  # §2.8 SL2: `short` defaults to false
    for key, item in obj.items():
        if key in ("title", "value"):
            fields[key] = parse_text_template(item)
        elif key == "short":
            if not isinstance(item, bool):
                raise parse_exception(
                    "could not parse message attachment field. expected a boolean value for "
                    f"[short] field, but found [{token_name(item)}]"
                )
            fields[key] = item
        else:
            raise parse_exception(
                f"could not parse message attachment field. unexpected field [{key}]"
            )
    for key in ("title", "value"):
        if key not in fields:
            raise parse_exception(
                f"could not parse message attachment field. missing required [{key}] field"
            )
    return _ordered(fields, ("title", "value", "short"))


_ATTACHMENT_TEXTS = (
    "fallback",
    "color",
    "pretext",
    "author_name",
    "author_link",
    "author_icon",
    "title",
    "title_link",
    "text",
    "image_url",
    "thumb_url",
)
_ATTACHMENT_ORDER = (
    *_ATTACHMENT_TEXTS[:9],
    "fields",
    "image_url",
    "thumb_url",
    "mrkdwn_in",
    "actions",
)


def _slack_attachment(value: Any) -> dict[str, Any]:
    obj = _expect_object(value, "could not parse message attachment. expected an object")
    fields: dict[str, Any] = {}
    buttons: list[dict[str, Any]] = []
    for key, item in obj.items():
        if key in _ATTACHMENT_TEXTS:
            fields[key] = parse_text_template(item)
        elif key == "fields":
            fields[key] = [_slack_field(f) for f in _one_or_many(item)]  # §2.8 SL1
        elif key == "mrkdwn_in":
            fields[key] = [str(m) for m in _one_or_many(item)]  # §2.8 SL1: plain strings
        elif key == "actions":
            # ES only reacts to objects here; other values are skipped without a word.
            buttons.extend(_slack_button(b) for b in _one_or_many(item) if isinstance(b, dict))
        else:
            raise parse_exception(
                f"could not parse message attachment field. unexpected field [{key}]"
            )
    for child, parent in (("author_link", "author_name"), ("author_icon", "author_name")):
        if child in fields and parent not in fields:
            raise parse_exception(
                f"could not parse message attachment field. found field [{child}], but no "
                f"[{parent}] is defined"
            )
    if "title_link" in fields and "title" not in fields:
        raise parse_exception(
            "could not parse message attachment field. found field [title_link], but no "
            "[title] is defined"
        )
    if buttons:
        fields["actions"] = buttons  # §2.8 SL3: an empty list is not written
    return _ordered(fields, _ATTACHMENT_ORDER)


def _slack_dynamic_attachments(value: Any) -> dict[str, Any]:
    obj = _expect_object(value, "could not parse dynamic attachments. expected an object")
    fields: dict[str, Any] = {}
    for key, item in obj.items():
        if key == "list_path":
            if not isinstance(item, str):
                raise parse_exception(
                    "could not parse dynamic attachments. expected a string value for "
                    f"[list_path] field, but found [{token_name(item)}]"
                )
            fields[key] = item
        elif key == "attachment_template":
            fields[key] = _slack_attachment(item)
        else:
            raise parse_exception(f"could not parse dynamic attachments. unexpected field [{key}]")
    for key in ("list_path", "attachment_template"):
        if key not in fields:
            raise parse_exception(
                f"could not parse dynamic attachments. missing required field [{key}]"
            )
    return _ordered(fields, ("list_path", "attachment_template"))


_SLACK_MESSAGE_ORDER = ("from", "to", "text", "icon", "attachments", "dynamic_attachments")


def _slack_message(value: Any) -> dict[str, Any]:
    obj = _expect_object(value, "could not parse slack message. expected an object")
    fields: dict[str, Any] = {}
    for key, item in obj.items():
        if key in ("from", "text", "icon"):
            fields[key] = parse_text_template(item)
        elif key == "to":
            fields[key] = [parse_text_template(t) for t in _one_or_many(item)]  # §2.8 SL1
        elif key == "attachments":
            fields[key] = [_slack_attachment(a) for a in _one_or_many(item)]  # §2.8 SL1
        elif key == "dynamic_attachments":
            fields[key] = _slack_dynamic_attachments(item)
        else:
            raise parse_exception(f"could not parse slack message. unknown field [{key}].")
    for key in ("to", "attachments"):
        if fields.get(key) == []:
            del fields[key]  # §2.8 SL1: an empty list is not written
    return _ordered(fields, _SLACK_MESSAGE_ORDER)


def _action_slack(value: Any, ctx: ParseContext, where: str) -> dict[str, Any]:
    obj = _expect_object(value, f"failed to parse [slack] action [{where}]. expected an object")
    fields: dict[str, Any] = {}
    for key, item in obj.items():
        if key == "account":
            fields[key] = _account(item, "slack", where)
        elif key == "proxy":
            fields[key] = _parse_proxy(item)
        elif key == "message":
            try:
                fields[key] = _slack_message(item)
            except EsError as err:
                raise parse_exception(
                    f"failed to parse [slack] action [{where}]. failed to parse [message] field",
                    caused_by=err,
                ) from err
        else:
            raise parse_exception(
                f"failed to parse [slack] action [{where}]. unexpected token [{token_name(item)}]"
            )
    if "message" not in fields:
        raise parse_exception(
            f"failed to parse [slack] action [{where}]. missing required [message] field"
        )
    return _ordered(fields, ("account", "proxy", "message"))


def _pagerduty_context(value: Any) -> dict[str, Any]:
    what = "could not parse trigger incident event context"
    obj = _expect_object(value, f"{what}. expected an object")
    fields: dict[str, Any] = {}
    for key, item in obj.items():
        if key == "type":
            name = str(item).lower()  # §2.8 PD2: written as the lower-case enum name
            if name not in ("link", "image"):
                raise parse_exception(f"{what}. unknown context type [{item}]")
            fields[key] = name
        elif key in ("href", "text", "src", "alt"):
            fields[key] = parse_text_template(item)
        else:
            raise parse_exception(f"{what}. unknown field [{key}]")
    kind = fields.get("type")
    if kind is None:
        raise parse_exception(f"{what}. missing required field [type]")
    required, allowed = (
        ("href", ("href", "text")) if kind == "link" else ("src", ("src", "href", "alt"))
    )
    if required not in fields:
        raise parse_exception(f"{what}. missing required field [{required}] for [{kind}] context")
    for key in ("href", "text", "src", "alt"):
        if key in fields and key not in allowed:
            raise parse_exception(f"{what}. unexpected field [{key}] for [{kind}] context")
    return _ordered(fields, ("type", *allowed))  # §2.8 PD2: type first


_PAGERDUTY_ORDER = (
    "description",
    "incident_key",
    "client",
    "client_url",
    "event_type",
    "attach_payload",
    "account",
    "proxy",
    "contexts",
)


def _action_pagerduty(value: Any, ctx: ParseContext, where: str) -> dict[str, Any]:
    what = "could not parse pager duty event template"
    obj = _expect_object(value, f"{what}. expected an object")
    fields: dict[str, Any] = {}
    for key, item in obj.items():
        if key in ("description", "incident_key", "client", "client_url", "event_type"):
            fields[key] = parse_text_template(item)
        elif key == "account":
            # ES takes the token's text, so a number or boolean becomes its JSON spelling.
            if isinstance(item, bool):
                fields[key] = "true" if item else "false"
            elif isinstance(item, str | int):
                fields[key] = str(item)
            else:
                raise parse_exception(f"{what}. failed to parse field [account]")
        elif key == "proxy":
            fields[key] = _parse_proxy(item)
        elif key == "attach_payload":
            if not isinstance(item, bool):
                raise parse_exception(
                    f"{what}. failed to parse field [attach_payload], expected a boolean value "
                    f"but found [{token_name(item)}] instead"
                )
            fields[key] = item
        elif key in ("contexts", "context"):
            if isinstance(item, list):
                # §2.8 PD1: the pre-6.0 spelling `context` is stored as `contexts`
                fields["contexts"] = [_pagerduty_context(c) for c in item]
            elif isinstance(item, dict):
                raise parse_exception(f"{what}. unexpected field [{next(iter(item), key)}]")
            # a plain value is skipped: ES only reads an array here
        else:
            raise parse_exception(f"{what}. unexpected field [{key}]")
    # §2.8 PD3: ES writes the description even when absent, as null [uncertain: its parser
    # then refuses the stored watch on the next read]
    fields.setdefault("description", None)
    return _ordered(fields, _PAGERDUTY_ORDER)


def _action_jira(value: Any, ctx: ParseContext, where: str) -> dict[str, Any]:
    obj = _expect_object(value, f"failed to parse [jira] action [{where}]. expected an object")
    fields: dict[str, Any] = {"fields": {}}  # §2.8 JI1: absent fields -> {}
    for key, item in obj.items():
        if key == "account":
            fields[key] = _account(item, "jira", where)
        elif key == "proxy":
            fields[key] = _parse_proxy(item)
        elif key == "fields":
            if not isinstance(item, dict):
                raise parse_exception(
                    f"failed to parse [jira] action [{where}]. failed to parse [fields] field"
                )
            fields[key] = hashmap_order(item)  # a free-form map, as T9
        else:
            raise parse_exception(
                f"failed to parse [jira] action [{where}]. unexpected token "
                f"[{token_name(item)}/{key}]"
            )
    return _ordered(fields, ("account", "proxy", "fields"))


_ACTION_PARSERS: dict[str, Callable[[Any, ParseContext, str], dict[str, Any]]] = {
    "logging": _action_logging,
    "index": _action_index,
    "email": _action_email,
    "webhook": _action_webhook,
    "slack": _action_slack,
    "pagerduty": _action_pagerduty,
    "jira": _action_jira,
}

ACTION_TYPES = tuple(_ACTION_PARSERS)


def _parse_action(action_id: str, value: Any, ctx: ParseContext) -> dict[str, Any]:
    where = f"{ctx.watch_id}/{action_id}"
    if re.search(r"\s", action_id):
        raise parse_exception(
            f"could not parse action [{action_id}] for watch [{ctx.watch_id}]. id contains "
            "whitespace"
        )  # §2.6 A6
    obj = _expect_object(value, f"could not parse action [{where}]. expected an object")
    throttle: int | None = None
    condition: dict[str, Any] | None = None
    transform: dict[str, Any] | None = None
    foreach: Any = _MISSING
    max_iterations = 100  # §2.6 A2: default max_iterations with foreach
    action: tuple[str, dict[str, Any]] | None = None
    for key, item in obj.items():
        if key == "throttle_period":
            try:
                throttle = parse_time_millis(item, key)  # §2.6 A1
            except EsError as err:
                raise parse_exception(
                    f"could not parse action [{where}]. failed to parse field [throttle_period] "
                    "as time value",
                    caused_by=err,
                ) from err
        elif key == "throttle_period_in_millis":
            throttle = _millis_field(item, key)
        elif key == "condition":
            condition = parse_condition(item, ctx)
        elif key == "transform":
            transform = parse_transform(item, ctx)  # §2.6 A3: `{}` dropped
        elif key == "foreach":
            foreach = item
        elif key == "max_iterations":
            max_iterations = _millis_field(item, key)
        elif key in _ACTION_PARSERS:
            action = (key, _ACTION_PARSERS[key](item, ctx, where))
        else:
            raise parse_exception(
                f"could not parse action [{where}]. unknown action type [{key}]"
            )  # A7
    if action is None:
        raise parse_exception(f"could not parse action [{where}]. missing action type")  # §2.6 A7
    out: dict[str, Any] = {}  # §2.6 A4: key order
    if throttle is not None:
        out["throttle_period_in_millis"] = throttle
    if condition is not None:
        out["condition"] = condition
    if transform is not None:
        out["transform"] = transform
    if foreach is not _MISSING:
        out["foreach"] = foreach
        out["max_iterations"] = max_iterations
    out[action[0]] = action[1]
    return out


def _parse_actions(value: Any, ctx: ParseContext) -> dict[str, Any]:
    obj = _expect_object(
        value, f"could not parse actions for watch [{ctx.watch_id}]. expected an object"
    )
    return {action_id: _parse_action(action_id, item, ctx) for action_id, item in obj.items()}  # A5


# ---------------------------------------------------------------------------- the watch

_WATCH_ORDER = (
    "trigger",
    "input",
    "condition",
    "transform",
    "throttle_period_in_millis",
    "actions",
    "metadata",
)


def parse_watch(body: Any, ctx: ParseContext) -> dict[str, Any]:
    """Parse a watch body into the canonical stored form, or raise the `EsError` ES would."""
    obj = _expect_object(body, f"could not parse watch [{ctx.watch_id}]. expected an object")
    fields: dict[str, Any] = {
        "input": {"none": {}},  # §2.1 T1
        "condition": {"always": {}},  # §2.1 T2
        "actions": {},  # §2.1 T3
    }
    seen_trigger = False
    for key, item in obj.items():
        if key == "trigger":
            fields["trigger"] = _parse_trigger(item, ctx)
            seen_trigger = True
        elif key == "input":
            fields["input"] = parse_input(item, ctx)
        elif key == "condition":
            fields["condition"] = parse_condition(item, ctx)
        elif key == "transform":
            transform = parse_transform(item, ctx)
            if transform is None:
                fields.pop("transform", None)  # §2.1 T11
            else:
                fields["transform"] = transform
        elif key == "throttle_period":
            try:
                # §2.1 T4: stored as millis; T6: whichever throttle key comes last wins
                fields["throttle_period_in_millis"] = parse_time_millis(item, key)
            except EsError as err:
                raise parse_exception(
                    f"could not parse watch [{ctx.watch_id}]. failed to parse time value for "
                    "field [throttle_period]",
                    caused_by=err,
                ) from err
        elif key == "throttle_period_in_millis":
            fields[key] = _millis_field(item, key)  # §2.1 T5
        elif key == "actions":
            fields["actions"] = _parse_actions(item, ctx)
        elif key == "metadata":
            if item is None:
                fields["metadata"] = {}  # §2.1 T10 [uncertain]
            else:
                meta = _expect_object(
                    item,
                    f"could not parse watch [{ctx.watch_id}]. expected an object for [metadata]",
                )
                fields["metadata"] = hashmap_order(meta)  # §2.1 T9: HashMap order
        elif key in ("status", "_status"):
            continue  # §2.1 T8: ignored entirely
        else:
            raise parse_exception(
                f"could not parse watch [{ctx.watch_id}]. unexpected field [{key}]"
            )  # §2.1 T13
    if not seen_trigger:
        raise parse_exception(
            f"could not parse watch [{ctx.watch_id}]. missing required field [trigger]"
        )
    # §2.1 T7: no throttle key unless one was sent; T12: the serializer's key order
    return {key: fields[key] for key in _WATCH_ORDER if key in fields}


# ---------------------------------------------------------------------------- reads


def _hide(value: Any, key: str | None, parent: str | None) -> Any:
    if parent == "headers" and key is not None and key.lower() == "authorization":
        return REDACTED  # §2.8 W6: even a template object becomes the marker string
    if isinstance(value, dict):
        return {k: _hide(v, k, key) for k, v in value.items()}
    if (
        key == "password"
        and parent in ("basic", "email")
        and isinstance(value, str)
        and not value.startswith(ENCRYPTED_PREFIX)
    ):
        return REDACTED  # §2.8 W7, §2.10: basic-auth and email passwords
    return value


def render_watch(stored: dict[str, Any]) -> dict[str, Any]:
    """The watch as read APIs show it: status excluded, secrets hidden (§1.2, §2.10)."""
    out: dict[str, Any] = {}
    for key, value in stored.items():
        if key == "status":
            continue
        # Free-form maps are never secrets: only walk the typed sections.
        out[key] = value if key == "metadata" else _hide(value, key, None)
    return out


def deep_merge(old: Any, new: Any) -> Any:
    """The partial-update `doc` merge of §1.1: maps merged recursively, the rest replaced."""
    if isinstance(old, dict) and isinstance(new, dict):
        merged = dict(old)
        for key, value in new.items():
            merged[key] = deep_merge(old[key], value) if key in old else value
        return merged
    return new
