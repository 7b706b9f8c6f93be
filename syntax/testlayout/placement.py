"""Choosing a test folder, shared by the Python and JavaScript / TypeScript planners (pure).

They find the nearest tests folder above the source, mirror the source's package path inside
it the way the existing tests do, and prefer an existing test file named for the module.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .common import ancestors, join, parent_dir
from .detect import Repository

__all__ = ["existing_test", "find_test_dir", "folders_holding", "place_in_test_dir"]

_GENERIC_TEST_DIRS = frozenset({
    "test", "tests", "__tests__", "spec", "unit", "unittests", "unit_tests", "integration",
    "functional", "e2e", "src", "lib",
})
"""Folder names that say nothing about which module a test file tests."""


def folders_holding(tests: Sequence[str]) -> set[str]:
    """Every folder that holds one of *tests*, directly or below."""
    out: set[str] = set()
    for rel in tests:
        out.update(a for a in ancestors(parent_dir(rel)) if a)
    return out


def find_test_dir(
    repo: Repository,
    tests: Sequence[str],
    source_dir: str,
    names: Sequence[str],
    any_folder: bool = False,
) -> str | None:
    """The nearest folder named one of *names* in *source_dir* or above that holds one of
    *tests* (with *any_folder*: that exists)."""
    pool = repo.dirs if any_folder else folders_holding(tests)
    for folder in ancestors(source_dir):
        for name in names:
            if join(folder, name) in pool:
                return join(folder, name)
    return None


def place_in_test_dir(
    repo: Repository,
    tests: Sequence[str],
    test_dir: str,
    rel_parts: Sequence[str],
    droppable: frozenset[str],
) -> str:
    """The folder for a new test under *test_dir*: its ``unit/`` sub-folder when that holds
    tests; then, when the test folder keeps tests in sub-folders, mirroring *rel_parts*: the
    longest tail of them that exists there, else all of them less the leading *droppable*
    folders the test folder lacks."""
    holding = folders_holding(tests)
    if join(test_dir, "unit") in holding:
        test_dir = join(test_dir, "unit")
    mirrored = any(
        t.startswith(test_dir + "/") and "/" in t[len(test_dir) + 1 :] for t in tests
    )
    if not mirrored:
        return test_dir
    for i in range(len(rel_parts)):  # the longest tail of the path the tests already mirror
        if join(test_dir, *rel_parts[i:]) in repo.dirs:
            return join(test_dir, *rel_parts[i:])
    parts = list(rel_parts)
    while parts and parts[0] in droppable and join(test_dir, parts[0]) not in repo.dirs:
        parts.pop(0)
    return join(test_dir, *parts)


def existing_test(
    candidates: Iterable[str], source_parts: Sequence[str], preferred: str
) -> str | None:
    """The best of *candidates* (tests named for the module): its folders (generic ones
    aside) must all appear among *source_parts*; more shared folders win, then *preferred*
    (the computed location), then the shortest path."""
    wanted = set(source_parts)
    best: tuple[int, int, int, str] | None = None
    for rel in candidates:
        parts = [p for p in parent_dir(rel).split("/") if p and p not in _GENERIC_TEST_DIRS]
        if not set(parts) <= wanted:
            continue
        key = (-len(parts), 0 if rel == preferred else 1, rel.count("/"), rel)
        if best is None or key < best:
            best = key
    return None if best is None else best[3]
