"""Time legacy sigmac 0.23.1 and watchmgr converting the SigmaHQ corpus, on this machine, now.

Rows, each the median of --runs wall-clock runs (time.perf_counter around subprocess.run):

  sigmac 0.23.1      one process: the xpack-watcher backend over every corpus file
  watchmgr render    `watchmgr render CORPUS --format ndjson` three ways: serial (one process,
                     no cache), cold (a worker per core, no cache), warm (cache filled)
  watchmgr --help    start-up cost alone (target <= 0.35 s)
  yaml CSafeLoader   in this process: libyaml loading every corpus file, a floor reference

Output of every timed run goes to /dev/null; one untimed check run per tool counts its watches
and failures first (that run also warms the page cache). Standard library only: sigmac is
installed by this script into a throwaway venv (default .venv-sigmac/ at the repo root).

Usage: .venv/bin/python benchmarks/render_corpus.py [--runs 5] [--corpus PATH] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "sigmahq"
DEFAULT_SIGMAC_VENV = REPO / ".venv-sigmac"
SIGMATOOLS = "sigmatools==0.23.1"
# elk-defaultindex only sets indices (logstash-*, filebeat-*): no field mapping, no logsource
# conditions, so sigmac does the same query work as watchmgr, which maps no fields either.
# 0.23.1 refuses xpack-watcher without -c unless given its hidden --shoot-yourself-in-the-foot;
# `--sigmac-config none` takes that route (the seed's shape: "indices": []).
DEFAULT_SIGMAC_CONFIG = "elk-defaultindex"
HELP_TARGET_S = 0.35

# sigmac 0.23.1 aborts the whole -r run, even with --defer-abort, on the first rule whose
# exception it does not list (e.g. KeyError for the `expand` modifier, which it predates), so
# it cannot get through today's corpus as shipped. This shim runs sigmac's own main() in the one
# process and turns such an exception into the NotImplementedError that sigmac already reports
# per file and skips; the conversion itself is untouched.
SIGMAC_SHIM = """\
import sys
import yaml
import sigma.sigmac as s

HANDLED = (OSError, yaml.parser.ParserError, yaml.scanner.ScannerError, s.SigmaParseError,
           s.SigmaCollectionParseError, s.NotSupportedError, s.BackendError,
           NotImplementedError, TypeError, s.PartialMatchError, s.FullMatchError)


def _guard(call, *args, **kwargs):
    try:
        return call(*args, **kwargs)
    except HANDLED:
        raise
    except Exception as err:
        raise NotImplementedError(f"{type(err).__name__}: {err}") from err


class Parser(s.SigmaCollectionParser):
    def __init__(self, *args, **kwargs):
        _guard(super().__init__, *args, **kwargs)

    def generate(self, backend):
        return _guard(super().generate, backend)


s.SigmaCollectionParser = Parser
sys.argv[0] = "sigmac"
s.main()
"""
# The prefixes of sigmac's one-line-per-failed-file messages on stderr.
SIGMAC_FAILURE_PREFIXES = ("Error: ", "An unsupported feature is required")


@dataclass(frozen=True, slots=True)
class Row:
    """One measured command: seconds of each timed run and what its check run produced."""

    tool: str
    command: str
    #: wall clock of each timed run, the figure the table is about
    seconds: list[float]
    #: CPU (user + sys, children included) of each run: less disturbed by other work on the
    #: machine than wall time, and above it where a tool uses several cores
    cpu_seconds: list[float]
    watches: int | None = None
    failed: int | None = None
    notes: dict[str, object] = field(default_factory=dict)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu_seconds)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    corpus: Path = args.corpus
    if not corpus.is_dir():
        if args.corpus_given:
            print(f"error: corpus {corpus} is not a directory", file=sys.stderr)
            return 2
        print(f"skipped: no corpus at {corpus} (../shared is absent)", file=sys.stderr)
        return 0
    files = _corpus_files(corpus)
    print(f"corpus: {corpus} ({len(files)} rule files); runs: {args.runs}", file=sys.stderr)

    sigmac_python = _ensure_sigmac(args.sigmac_venv)
    watchmgr = REPO / ".venv" / "bin" / "watchmgr"

    # Other work on the machine skews wall time; the load averages say how busy it was.
    load_before = os.getloadavg()
    rows = [
        _bench_sigmac(sigmac_python, corpus, args.sigmac_config, args.runs),
        _bench_watchmgr_render(watchmgr, corpus, args.runs, "serial"),
        _bench_watchmgr_render(watchmgr, corpus, args.runs, "cold"),
        _bench_watchmgr_render(watchmgr, corpus, args.runs, "warm"),
        _bench_command("watchmgr --help", [str(watchmgr), "--help"], args.runs),
        _bench_yaml_floor(files, args.runs),
    ]
    load = {"before": load_before, "after": os.getloadavg()}
    _print_table(rows)
    print(f"load average (1, 5, 15 min): before {load['before']}, after {load['after']}")
    if args.json is not None:
        report = _report(rows, corpus, len(files), load)
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.json}", file=sys.stderr)
    return 0


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="Timed runs per row (median of these).")
    parser.add_argument("--corpus", type=Path, help=f"Sigma rule tree. Default: {DEFAULT_CORPUS}.")
    parser.add_argument("--json", type=Path, help="Also write the measurements to this file.")
    parser.add_argument(
        "--sigmac-venv",
        type=Path,
        default=DEFAULT_SIGMAC_VENV,
        help="Venv for sigmatools 0.23.1; created and filled if missing.",
    )
    parser.add_argument(
        "--sigmac-config",
        default=DEFAULT_SIGMAC_CONFIG,
        help="sigmac -c configuration, or 'none' for no configuration at all.",
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    args.corpus_given = args.corpus is not None
    if args.corpus is None:
        args.corpus = DEFAULT_CORPUS
    return args


def _corpus_files(corpus: Path) -> list[Path]:
    # watchmgr's discovery: *.yml and *.yaml anywhere below the given directory.
    return sorted(p for p in corpus.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file())


def _ensure_sigmac(venv: Path) -> Path:
    """Return the venv's python with sigmatools 0.23.1 importable, installing it if needed."""
    python = venv / "bin" / "python"
    probe = [str(python), "-c", "import importlib.metadata as m; print(m.version('sigmatools'))"]
    if python.exists():
        found = subprocess.run(probe, capture_output=True, text=True, check=False)
        if found.returncode == 0 and found.stdout.strip() == SIGMATOOLS.split("==")[1]:
            return python
    print(f"installing {SIGMATOOLS} into {venv} ...", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(python), "-m", "pip", "install", "--quiet", SIGMATOOLS]
    installed = subprocess.run(pip, capture_output=True, text=True, check=False)
    if installed.returncode != 0:
        sys.exit(f"pip install {SIGMATOOLS} failed:\n{installed.stderr[-2000:]}")
    subprocess.run(probe, check=True, stdout=subprocess.DEVNULL)
    return python


def _bench_sigmac(python: Path, corpus: Path, config: str, runs: int) -> Row:
    # sigmac -r feeds every file of a directory to the YAML parser (README.md, LICENSE too),
    # so it gets the corpus's sub-directories and top-level rule files instead of its root.
    inputs = sorted(
        str(p)
        for p in corpus.iterdir()
        if not p.name.startswith(".") and (p.is_dir() or p.suffix in (".yml", ".yaml"))
    )
    # output=json: one compact watch per line, the counterpart of watchmgr's ndjson.
    options = ["-t", "xpack-watcher", "-O", "output=json", "--defer-abort"]
    options += ["--ignore-backend-errors"]
    options += ["--shoot-yourself-in-the-foot"] if config == "none" else ["-c", config]
    command = [str(python), "-c", SIGMAC_SHIM, *options, "-r", *inputs]

    check = subprocess.run(command, capture_output=True, text=True, check=False)
    watches = sum(1 for line in check.stdout.splitlines() if line.startswith("{"))
    failures = [ln for ln in check.stderr.splitlines() if ln.startswith(SIGMAC_FAILURE_PREFIXES)]
    if watches == 0:
        sys.exit(f"sigmac printed no watch (exit {check.returncode}):\n{check.stderr[-2000:]}")
    shown = ["sigmac", *options, "-r", *(os.path.relpath(i, corpus) for i in inputs)]
    return Row(
        tool="sigmac 0.23.1",
        command=" ".join(shown) + f"  (in {corpus}, via the shim; config {config})",
        **_time_runs(lambda: _run_quiet(command), runs),
        watches=watches,
        failed=len(failures),
        notes={"exit_code": check.returncode, "config": config},
    )


def _bench_watchmgr_render(watchmgr: Path, corpus: Path, runs: int, mode: str = "warm") -> Row:
    """`mode`: warm (the conversion cache filled by the check run), cold (no cache, one
    process per core) or serial (no cache, one process)."""
    command = [str(watchmgr), "render", str(corpus), "--format", "ndjson"]
    env = dict(os.environ)
    if mode != "warm":
        env["WATCHMGR_NO_CACHE"] = "1"
    if mode == "serial":
        env["WATCHMGR_JOBS"] = "1"
    check = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    # Exit 1 is expected: a few corpus rules fail by design, one stderr line each.
    if check.returncode not in (0, 1) or not check.stdout:
        sys.exit(f"watchmgr render failed (exit {check.returncode}):\n{check.stderr[-2000:]}")
    # stderr has one `path:line: message` per failed rule and `path:line: warning: ...` lines.
    messages = check.stderr.splitlines()
    warnings = sum(1 for line in messages if ": warning: " in line)
    return Row(
        tool=f"watchmgr render ({mode})",
        command=" ".join(command),
        **_time_runs(lambda: _run_quiet(command, env), runs),
        watches=len(check.stdout.splitlines()),
        failed=len(messages) - warnings,
        notes={"exit_code": check.returncode, "warnings": warnings},
    )


def _bench_command(tool: str, command: list[str], runs: int) -> Row:
    _run_quiet(command)
    return Row(
        tool=tool,
        command=" ".join(command),
        **_time_runs(lambda: _run_quiet(command), runs),
        notes={"target_s": HELP_TARGET_S},
    )


def _bench_yaml_floor(files: list[Path], runs: int) -> Row:
    import yaml  # the project venv's PyYAML; imported here so --help works without it

    loader = getattr(yaml, "CSafeLoader", None)
    if loader is None:
        sys.exit("PyYAML here has no libyaml (yaml.CSafeLoader); the floor needs it")

    def load_all() -> None:
        for path in files:
            for _ in yaml.load_all(path.read_bytes(), Loader=loader):
                pass

    load_all()
    return Row(
        tool="yaml CSafeLoader",
        command=f"yaml.load_all(read_bytes(), CSafeLoader) over {len(files)} files, in-process",
        **_time_runs(load_all, runs),
    )


def _run_quiet(command: list[str], env: dict[str, str] | None = None) -> None:
    # The exit code is deliberately ignored: the check runs above judged the output already.
    subprocess.run(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, env=env
    )


def _time_runs(run: Callable[[], None], runs: int) -> dict[str, list[float]]:
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(runs):
        cpu_start = _cpu_now()
        start = time.perf_counter()
        run()
        wall.append(time.perf_counter() - start)
        cpu.append(_cpu_now() - cpu_start)
    return {"seconds": wall, "cpu_seconds": cpu}


def _cpu_now() -> float:
    """CPU seconds used so far by this process and its waited-for children."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _print_table(rows: list[Row]) -> None:
    sigmac = rows[0].median
    header = (
        f"{'tool':<26} {'median s':>9} {'min s':>8} {'max s':>8} {'x sigmac':>9} {'cpu s':>8}"
        "  counts"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        counts = ""
        if row.watches is not None:
            counts = f"{row.watches} watches, {row.failed} failed"
        if "target_s" in row.notes:
            met = "met" if row.median <= HELP_TARGET_S else "MISSED"
            counts = f"target <= {HELP_TARGET_S} s: {met}"
        print(
            f"{row.tool:<26} {row.median:>9.3f} {min(row.seconds):>8.3f} {max(row.seconds):>8.3f}"
            f" {row.median / sigmac:>9.3f} {row.cpu_median:>8.3f}  {counts}"
        )


def _report(
    rows: list[Row], corpus: Path, file_count: int, load: dict[str, tuple[float, float, float]]
) -> dict[str, object]:
    return {
        "version": 1,
        "corpus": str(corpus),
        "rule_files": file_count,
        "machine": {
            "nproc": os.cpu_count(),
            "cpu": _cpu_model(),
            "python": platform.python_version(),
            "pythondontwritebytecode": bool(os.environ.get("PYTHONDONTWRITEBYTECODE")),
            "loadavg": load,
        },
        "rows": [
            {
                **asdict(row),
                "median": row.median,
                "cpu_median": row.cpu_median,
                "ratio_to_sigmac": row.median / rows[0].median,
            }
            for row in rows
        ],
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


if __name__ == "__main__":
    sys.exit(main())
