"""Rule files → desired watches: the conversion the CLI commands share.

Files convert independently, so a large rule set is spread over worker processes (forked, so
the callables reach them as arguments and need not pickle; only results travel back); what spans
files — a Sigma id used twice, two rules that make
the same watch id — is checked afterwards, in file order, so the result does not depend on
how the work was split.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from watchmgr.cache import ConversionCache, FileResult
from watchmgr.errors import Diagnostic, RuleError, SourceLocation, of_severity
from watchmgr.rules import Rule, discover, load_file, reserved_watch_id, root_relative
from watchmgr.settings import DEFAULT_SETTINGS, WatchSettings
from watchmgr.watch import Watch, keep_first, render_rules

SettingsFor = Callable[[Rule], WatchSettings | None]
Prepare = Callable[[Rule], Rule]
#: Told (rule files done, rule files in all) as files are converted or found in the cache.
Progress = Callable[[int, int], None]

#: Below this many files one process is faster than starting workers.
PARALLEL_FROM = 256
#: Files a worker converts per turn: small, so every core stays busy to the end (rule files
#: vary a lot in cost), large enough that handing results back costs little.
CHUNK = 16


@dataclass(frozen=True, slots=True)
class Conversion:
    """The watches made from a set of rule files, and every error and warning on the way."""

    rules: int
    watches: tuple[Watch, ...]  # sorted by id
    diagnostics: tuple[Diagnostic, ...]  # sorted by location
    #: (path, Sigma id) of every rule loaded, in file order
    refs: tuple[tuple[str, str | None], ...] = ()

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return of_severity(self.diagnostics, "error")

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return of_severity(self.diagnostics, "warning")


def convert(
    paths: Iterable[str | Path],
    settings_for: SettingsFor | None = None,
    prepare: Prepare | None = None,
    jobs: int | None = None,
    base: Path = Path("."),
    cache: ConversionCache | None = None,
    progress: Progress | None = None,
) -> Conversion:
    """Load the rules under `paths` and render their watches.

    `settings_for` gives a rule's settings (None skips it; default: the seed's settings);
    `prepare` may return a changed copy of a rule first (an environment's pipelines); `jobs`
    is the number of processes (default: one per core for rule sets of `PARALLEL_FROM` files or
    more). Rule paths in
    messages and watches are relative to `base`, the repository root (`rules.root_relative`).
    With a `cache`, files converted before with the same settings are not converted again.
    `progress` is told how many files are done, from 0 to all of them (cache hits at once).
    """
    files, diagnostics = discover(paths)
    job = (settings_for or (lambda _rule: DEFAULT_SETTINGS), prepare, base)
    results = _cached_run(files, job, jobs, cache, _Tally(len(files), progress))
    refs = tuple(ref for result in results for ref in result.refs)
    watches = _across_files(results, diagnostics)
    diagnostics.sort(key=lambda d: (d.location.path, d.location.line or 0, d.message))
    ordered = tuple(sorted(watches, key=lambda w: w.id))
    return Conversion(len(refs), ordered, tuple(diagnostics), refs)


_Job = tuple[SettingsFor, Prepare | None, Path]


class _Tally:
    """Counts the files done and tells `progress`."""

    def __init__(self, total: int, progress: Progress | None) -> None:
        self.done = 0
        self.total = total
        self.progress = progress
        self.add(0)

    def add(self, files: int) -> None:
        self.done += files
        if self.progress is not None:
            self.progress(self.done, self.total)


if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess
    from multiprocessing.queues import Queue

    #: What workers send back: the first index of a chunk and its results, or the error that
    #: stopped the worker.
    _Results = Queue[tuple[int, list[FileResult] | str]]


def _cached_run(
    files: Sequence[Path],
    job: _Job,
    jobs: int | None,
    cache: ConversionCache | None,
    tally: _Tally,
) -> list[FileResult]:
    if cache is None:
        return _run(files, job, jobs, tally)
    found: list[FileResult | None] = []
    keys: dict[int, str] = {}
    for index, path in enumerate(files):
        try:
            key = cache.key(root_relative(path, job[2]), path.read_bytes())
        except OSError:
            found.append(None)  # converting it reports the problem
            continue
        hit = cache.get(key)
        found.append(hit)
        if hit is None:
            keys[index] = key
    missing = [i for i, result in enumerate(found) if result is None]
    tally.add(len(files) - len(missing))
    converted = _run([files[i] for i in missing], job, jobs, tally)
    for index, result in zip(missing, converted, strict=True):
        found[index] = result
        if index in keys:
            cache.put(keys[index], result)
    return [r for r in found if r is not None]


def _run(files: Sequence[Path], job: _Job, jobs: int | None, tally: _Tally) -> list[FileResult]:
    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    if len(files) < PARALLEL_FROM and jobs is None:
        workers = 1
    if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        results = []
        for path in files:
            results.append(_convert_file(path, job))
            tally.add(1)
        return results
    # Import pySigma once here, so that the forked workers share it instead of each paying.
    import sigma.conditions
    import sigma.rule  # noqa: F401

    return _in_workers(files, job, workers, tally)


def _in_workers(files: Sequence[Path], job: _Job, workers: int, tally: _Tally) -> list[FileResult]:
    """Convert `files` in `workers` forked processes, each taking the next chunk when done.

    A worker that fails sends its error back and the conversion fails with it; one that dies
    (killed, out of memory) fails it too instead of leaving it waiting.
    """
    context = multiprocessing.get_context("fork")
    chunks = [(start, min(start + CHUNK, len(files))) for start in range(0, len(files), CHUNK)]
    taken = context.Value("i", 0)  # how many chunks workers have taken
    done: _Results = context.Queue()
    processes = [
        context.Process(target=_worker, args=(files, chunks, job, taken, done), daemon=True)
        for _ in range(min(workers, len(chunks)))
    ]
    for process in processes:
        process.start()
    results: list[FileResult] = []
    by_start: dict[int, list[FileResult]] = {}
    try:
        for _ in chunks:
            start, converted = _next_chunk(done, processes)
            by_start[start] = converted
            tally.add(len(converted))
    except BaseException:  # a failed worker or Ctrl-C: the others' work is not wanted
        for process in processes:
            process.terminate()
        raise
    finally:
        for process in processes:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
    for start, _stop in chunks:
        results.extend(by_start[start])
    return results


def _worker(
    files: Sequence[Path],
    chunks: Sequence[tuple[int, int]],
    job: _Job,
    taken: Any,
    done: _Results,
) -> None:
    while True:
        with taken.get_lock():
            index = taken.value
            taken.value += 1
        if index >= len(chunks):
            return
        start, stop = chunks[index]
        try:
            done.put((start, [_convert_file(path, job) for path in files[start:stop]]))
        except BaseException as err:  # reported by the parent, which raises it
            done.put((start, f"{type(err).__name__}: {err}"))
            return


def _next_chunk(
    done: _Results,
    processes: Sequence[BaseProcess],
) -> tuple[int, list[FileResult]]:
    while True:
        try:
            start, converted = done.get(timeout=1.0)
        except queue.Empty:
            if all(p.exitcode is not None for p in processes) and done.empty():
                codes = sorted({p.exitcode for p in processes}, key=str)
                raise RuntimeError(f"conversion workers ended early (exit codes {codes})") from None
            continue
        if isinstance(converted, str):
            raise RuntimeError(f"converting rule files failed in a worker: {converted}")
        return start, converted


def _convert_file(path: Path, job: _Job) -> FileResult:
    settings_for, prepare, root = job
    shown = root_relative(path, root)
    loaded, diagnostics = load_file(path, shown)
    rules: list[Rule] = []
    for rule in loaded:
        try:
            rules.append(prepare(rule) if prepare else rule)
        except RuleError as err:
            diagnostics.append(Diagnostic(err.location or rule.location, err.message))
    rendered = render_rules(rules, settings_for)
    watches, reserved = _without_reserved_ids(rules, rendered.watches)
    rule_ids = tuple(
        (r.sigma_id, r.line, r.locate(r"^id:").line or r.line)
        for r in loaded
        if r.sigma_id and r.raw.get("action") is None
    )
    refs = tuple((r.path, r.sigma_id) for r in loaded)
    return FileResult(
        shown, refs, rule_ids, watches, (*diagnostics, *rendered.diagnostics, *reserved)
    )


def _without_reserved_ids(
    rules: Sequence[Rule], watches: Sequence[Watch]
) -> tuple[tuple[Watch, ...], list[Diagnostic]]:
    """`watches` less those whose id is watchmgr's own (the lock's), each an error."""
    by_line = {rule.line: rule for rule in rules}
    kept: list[Watch] = []
    errors: list[Diagnostic] = []
    for watch in watches:
        rule = by_line.get(watch.line)
        error = None if rule is None else reserved_watch_id(rule, watch.id)
        if error is None:
            kept.append(watch)
        else:
            errors.append(error)
    return tuple(kept), errors


def _across_files(results: Sequence[FileResult], diagnostics: list[Diagnostic]) -> list[Watch]:
    """Keep the first file's rule for each Sigma id and the first rule's watch for each id."""
    first_rule: dict[str, SourceLocation] = {}
    by_id: dict[str, Watch] = {}
    for result in results:
        diagnostics.extend(result.diagnostics)
        dropped: set[int] = set()
        for rule_id, line, id_line in result.rule_ids:
            earlier = first_rule.setdefault(rule_id, SourceLocation(result.path, id_line))
            if earlier.path != result.path:
                diagnostics.append(
                    Diagnostic(
                        SourceLocation(result.path, id_line),
                        f"duplicate rule id {rule_id} (also in {earlier}); "
                        "give one of the rules a new id",
                    )
                )
                dropped.add(line)
        kept = (watch for watch in result.watches if watch.line not in dropped)
        keep_first(kept, by_id, diagnostics)
    return list(by_id.values())
