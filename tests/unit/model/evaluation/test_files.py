"""kodama.model.evaluation.files: the repository walk and the copy without held-out files."""

from __future__ import annotations

from pathlib import Path

import pytest

from kodama.model.evaluation import mirror_without, pick_holes, walk_repository
from kodama.syntax.ignore import Ignorer

from .sample_repo import PYTHON, write


def test_walk_finds_source_files_sorted_and_skips_vendored_generated_ignored(repo: Path) -> None:
    files = walk_repository(repo)
    assert [f.path for f in files] == [
        "pkg/more.py", "pkg/shapes.py", "stats/stats.go", "web/cart.js",
    ]
    assert {f.path: f.language for f in files}["stats/stats.go"] == "go"
    assert files[1].text == PYTHON


def test_walk_normalises_crlf(tmp_path: Path) -> None:
    write(tmp_path, "a.py", "x = 1\r\ny = 2\r\n")
    assert walk_repository(tmp_path)[0].text == "x = 1\ny = 2\n"


@pytest.mark.parametrize(("rel", "is_dir", "ignored"), [
    ("out", True, True),
    ("src/out", True, True),
    ("out", False, False),  # "out/" names folders only
    ("pkg/x.tmp.py", False, True),
    ("docs/_build", True, True),
    ("src/docs/_build", True, False),  # a pattern with "/" is anchored at the root
    ("pkg/x.py", False, False),
])
def test_gitignore_subset(rel: str, is_dir: bool, ignored: bool, tmp_path: Path) -> None:
    # The eval walks the repository with the workspace index's rules (one .gitignore parser).
    (tmp_path / ".gitignore").write_text("out/\n*.tmp.py\n/docs/_build\n")
    assert Ignorer(tmp_path).verdict(rel, is_dir) is ignored


def test_mirror_without_holds_every_other_file_and_none_held_out(repo: Path,
                                                                tmp_path: Path) -> None:
    files = walk_repository(repo)
    hole_set = pick_holes(repo, holes=6, held_out=2, seed=4, files=files)
    mirror = mirror_without(repo, files, hole_set.held_out, tmp_path / "mirror")
    present = sorted(p.relative_to(mirror).as_posix() for p in mirror.rglob("*") if p.is_file())
    assert present == sorted(f.path for f in files if f.path not in hole_set.held_out)
    assert len(present) == len(files) - 2
    for rel in present:
        assert (mirror / rel).read_text("utf-8") == (repo / rel).read_text("utf-8")
