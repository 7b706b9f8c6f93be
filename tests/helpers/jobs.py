"""Module-level jobs for tests of kodama.model.isolated (a spawned child imports them by name)."""

from __future__ import annotations

import os
from collections.abc import Callable

from kodama.model.errors import WeightsIntegrityError


def count_to(n: int, *, progress: Callable[[str, float | None], None]) -> str:
    for i in range(n):
        progress(f"step {i}", i / n)
    return f"counted to {n} in process {os.getpid()}"


def corrupt(*, progress: Callable[[str, float | None], None]) -> None:
    raise WeightsIntegrityError("the test weights", "aa" * 32, "bb" * 32, "reinstall them")


def crash(*, progress: Callable[[str, float | None], None]) -> None:
    os._exit(9)
