"""The option sets `cli/options.py` writes out (so that ``watchmgr --help`` loads no conversion
code) are the sets their owners define."""

from __future__ import annotations

from typing import get_args

from watchmgr import query, workflow
from watchmgr.cli import options
from watchmgr.settings import IdScheme


def test_dialects_are_the_querys() -> None:
    assert query.DIALECTS == options.DIALECTS


def test_id_schemes_are_the_settings() -> None:
    assert get_args(IdScheme) == options.ID_SCHEMES


def test_query_targets_are_the_workflows() -> None:
    assert workflow.QUERY_TARGETS == options.QUERY_TARGETS
