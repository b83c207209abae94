"""The watches on a cluster for people and programs: ``status`` as a table or versioned JSON."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.text import Text

from watchmgr.output.plan import print_rows

#: Version of ``status --format json``; it grows keys compatibly, a change of meaning bumps it.
STATUS_FORMAT_VERSION = 1

_STYLES = {"failing": "bold red", "inactive": "yellow", "never run": "dim", "ok": "green"}


def render_status_json(environment: str, records: Sequence[Mapping[str, Any]]) -> None:
    """``{"format_version", "environment", "watches": [...]}``, watches worst first."""
    document = {
        "format_version": STATUS_FORMAT_VERSION,
        "environment": environment,
        "watches": list(records),
    }
    sys.stdout.write(json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def render_status_text(
    environment: str, records: Sequence[Mapping[str, Any]], console: Console
) -> None:
    """A row per watch, worst first, then how many of each health."""
    console.print(Text(f"Environment {environment}", style="bold"))
    if not records:
        console.print("No watches of this environment on the cluster.")
        return
    rows = [
        (
            Text(str(r["health"]), style=_STYLES.get(str(r["health"]), "")),
            Text(str(r["id"])),
            Text(_time(r["last_checked"])),
            Text(_time(r["last_met_condition"])),
            Text(_time(r["last_throttled"])),
            Text(", ".join(r["acked"]) or "-"),
            Text(str(r["error"] or "")),
        )
        for r in records
    ]
    header = ("health", "watch", "last checked", "last met", "last throttled", "acked", "error")
    print_rows(console, header, rows, below=6, label_from=2)
    counts: dict[str, int] = {}
    for record in records:
        counts[str(record["health"])] = counts.get(str(record["health"]), 0) + 1
    console.print(", ".join(f"{n} {health}" for health, n in counts.items()))


def _time(value: Any) -> str:
    """A Watcher timestamp to the second, or '-' for never."""
    if not isinstance(value, str) or not value:
        return "-"
    return value.replace("T", " ")[:19]
