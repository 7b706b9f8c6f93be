"""``kodama eval`` and fine-tune data read the repository through the one walk: a symbolic link
to a folder or a file outside the repository is never followed, so nothing outside is read."""

from __future__ import annotations

import os
from pathlib import Path

from kodama.model.evaluation import walk_repository
from kodama.model.finetune.data import collect

OUTSIDE = "def leaked_secret_function():\n    return 'from outside the repository'\n"


def linked_repository(tmp_path: Path) -> Path:
    """A repository with one source file, a folder link and a file link out of it."""
    outside = tmp_path / "outside"
    (outside / "pkg").mkdir(parents=True)
    (outside / "pkg" / "leak.py").write_text(OUTSIDE)
    (outside / "single.py").write_text(OUTSIDE)
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "main.py").write_text("def main():\n    return 1\n")
    os.symlink(outside / "pkg", repo / "linked_dir")
    os.symlink(outside / "single.py", repo / "linked_file.py")
    return repo


def test_eval_reads_no_file_through_a_link(tmp_path: Path) -> None:
    files = walk_repository(linked_repository(tmp_path))
    assert [f.path for f in files] == ["main.py"]
    assert not any("leaked_secret_function" in f.text for f in files)


def test_fine_tune_data_reads_no_file_through_a_link(tmp_path: Path) -> None:
    corpus = collect(linked_repository(tmp_path))
    assert [f.path for f in corpus.files] == ["main.py"]
    assert not any("leaked_secret_function" in f.text for f in corpus.files)
