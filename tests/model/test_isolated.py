"""Conversions run in a child process: results, progress and errors come back intact."""

from __future__ import annotations

import os

import pytest

from helpers import jobs
from kodama.model.errors import ModelLoadError, WeightsIntegrityError
from kodama.model.isolated import run_isolated


def test_result_and_progress_come_back_from_another_process() -> None:
    seen: list[str] = []
    result = run_isolated(jobs.count_to, 3, progress=lambda m, f: seen.append(m))
    assert result.startswith("counted to 3") and str(os.getpid()) not in result
    assert seen == ["step 0", "step 1", "step 2"]


def test_our_errors_keep_their_type() -> None:
    with pytest.raises(WeightsIntegrityError):
        run_isolated(jobs.corrupt)


def test_a_dying_child_is_a_clear_error() -> None:
    with pytest.raises(ModelLoadError, match="stopped unexpectedly"):
        run_isolated(jobs.crash)
