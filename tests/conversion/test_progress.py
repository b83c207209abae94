"""The conversion tells its progress: (rule files done, rule files in all), from 0 to all,
whether files are converted in this process, in workers, or found in the cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conversion.test_parallel import _tree
from watchmgr.cache import cache_for
from watchmgr.convert import CHUNK, convert


@pytest.mark.parametrize("jobs", [1, 2], ids=["one process", "two workers"])
def test_progress_counts_every_file_once_up_to_the_total(tmp_path: Path, jobs: int) -> None:
    rules = _tree(tmp_path, 2 * CHUNK + 3)  # and r99.yml: 36 files
    told: list[tuple[int, int]] = []
    convert([rules], jobs=jobs, base=tmp_path, progress=lambda *seen: told.append(seen))
    total = 2 * CHUNK + 4
    assert told[0] == (0, total)
    assert told[-1] == (total, total)
    assert {t for _, t in told} == {total}
    done = [d for d, _ in told]
    assert done == sorted(done)
    # one step per file in one process, one per chunk of files in workers
    assert len(told) == 1 + (total if jobs == 1 else 3)


def test_cache_hits_count_at_once(tmp_path: Path) -> None:
    rules = _tree(tmp_path, 5)
    cache = cache_for(tmp_path, "settings")
    convert([rules], base=tmp_path, cache=cache)
    (rules / "r00.yml").write_text((rules / "r00.yml").read_text() + "\n# changed\n")
    told: list[tuple[int, int]] = []
    convert([rules], base=tmp_path, cache=cache, progress=lambda *seen: told.append(seen))
    assert told == [(0, 6), (5, 6), (6, 6)]
