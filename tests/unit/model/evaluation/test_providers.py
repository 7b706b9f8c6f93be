"""kodama.model.evaluation.providers: repository context that never sees held-out files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from kodama.model.context import RepositoryContext
from kodama.model.evaluation import (
    ContextProvider,
    NoContext,
    held_out_free,
    pick_holes,
    repository_provider,
    walk_repository,
)

from .sample_repo import PYTHON, write


def test_held_out_free_builds_over_a_temporary_copy_without_the_held_out_files(
    repo: Path,
) -> None:
    files = walk_repository(repo)
    hole_set = pick_holes(repo, holes=6, held_out=2, seed=4, files=files)
    seen: dict[str, object] = {}

    def factory(root: Path, exclude: Sequence[str]) -> ContextProvider:
        seen["root"], seen["exclude"] = root, tuple(exclude)
        seen["present"] = sorted(p.relative_to(root).as_posix()
                                 for p in root.rglob("*") if p.is_file())
        return NoContext()

    with held_out_free(repo, files, hole_set, factory) as provider:
        assert isinstance(provider, NoContext)
        mirror = seen["root"]
        assert isinstance(mirror, Path) and mirror.is_dir() and mirror.name == repo.name
    assert seen["exclude"] == hole_set.held_out, "the factory is told to exclude them too"
    assert seen["present"] == sorted(f.path for f in files if f.path not in hole_set.held_out)
    assert not mirror.exists(), "the copy is removed afterwards"


def test_repository_provider_never_indexes_the_excluded_paths(tmp_path: Path) -> None:
    write(tmp_path, "pkg/shapes.py", PYTHON)
    write(tmp_path, "pkg/held.py", PYTHON.replace("Circle", "Disk"))
    provider = repository_provider(tmp_path, exclude=["pkg/held.py"])
    assert isinstance(provider, RepositoryContext)
    assert "pkg/shapes.py" in provider.index and "pkg/held.py" not in provider.index
    assert not provider.index.persist, "an evaluation's index is not cached on disk"
