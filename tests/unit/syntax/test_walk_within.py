"""``walk.within``: a path that arrives whole (a document's URI, a planned test file) is inside
the repository only as the walk would reach it — no ``..`` out, no symbolic link on the way."""

from __future__ import annotations

import os
from pathlib import Path

from kodama.syntax.walk import within


def repository(tmp_path: Path) -> tuple[Path, Path]:
    """``repo/`` (with ``src/app.py``) and ``outside/`` (with ``secret.py``) side by side,
    ``repo/linked`` and ``repo/src/secret.py`` being links into ``outside``."""
    repo, outside = tmp_path / "repo", tmp_path / "outside"
    (repo / "src").mkdir(parents=True)
    outside.mkdir()
    (repo / "src" / "app.py").write_text("x = 1\n")
    (outside / "secret.py").write_text("TOKEN = 'x'\n")
    os.symlink(outside, repo / "linked")
    os.symlink(outside / "secret.py", repo / "src" / "secret.py")
    return repo, outside


def test_files_and_new_paths_inside_are_given_relative(tmp_path: Path) -> None:
    repo, _ = repository(tmp_path)
    assert within(repo, repo / "src" / "app.py") == "src/app.py"
    assert within(repo, repo / "tests" / "new" / "test_app.py") == "tests/new/test_app.py"
    assert within(repo, repo / "src" / "." / "app.py") == "src/app.py"
    assert within(repo, repo / "src" / ".." / "src" / "app.py") == "src/app.py"


def test_dot_segments_that_climb_out_are_outside(tmp_path: Path) -> None:
    repo, _ = repository(tmp_path)
    assert within(repo, repo / "src" / ".." / ".." / "outside" / "secret.py") is None
    assert within(repo, repo / "..") is None
    assert within(repo, repo) is None, "the root is no file of the repository"


def test_links_on_the_way_or_as_the_file_are_outside(tmp_path: Path) -> None:
    repo, outside = repository(tmp_path)
    assert within(repo, repo / "linked" / "secret.py") is None
    assert within(repo, repo / "linked" / "new" / "test_x.py") is None
    assert within(repo, repo / "src" / "secret.py") is None
    assert within(repo, outside / "secret.py") is None


def test_the_root_spelled_through_a_link_to_it_is_the_root(tmp_path: Path) -> None:
    repo, _ = repository(tmp_path)
    os.symlink(repo, tmp_path / "alias")
    assert within(repo, tmp_path / "alias" / "src" / "app.py") == "src/app.py"
    assert within(tmp_path / "alias", repo / "src" / "app.py") == "src/app.py"
    assert within(repo, tmp_path / "alias" / "linked" / "secret.py") is None
