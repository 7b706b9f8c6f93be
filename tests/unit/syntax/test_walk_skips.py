"""What the repository walk passes over, and why (``on_skip``): every path it does not list is
heard once, with the reason, and hearing changes nothing about what it lists."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kodama.syntax.ignore import Ignorer
from kodama.syntax.walk import (
    HIDDEN_FOLDER,
    IGNORED,
    LINK,
    NOT_A_FILE,
    SKIP_REASONS,
    SKIPPED_FOLDER,
    UNREADABLE_FOLDER,
    walk,
)


def write(root: Path, rel: str, text: str = "x = 1\n") -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_every_path_passed_over_is_heard_once_with_its_reason(tmp_path: Path) -> None:
    outside = write(tmp_path, "outside/secret.py")
    root = tmp_path / "repo"
    write(root, "src/app.py")
    write(root, ".github/workflows/ci.py")
    write(root, "node_modules/lib/index.js")
    write(root, "env/pyvenv.cfg", "home = /usr\n")
    write(root, "pkg.egg-info/top.py")
    write(root, "generated/big.py")
    write(root, "src/local_settings.py")
    write(root, "src/private.py")
    write(root, ".gitignore", "generated/\nlocal_*.py\n")
    write(root, "src/.kodamaignore", "private.py\n")
    (root / "src" / "linked.py").symlink_to(outside)
    (root / "linked_folder").symlink_to(outside.parent, target_is_directory=True)
    os.mkfifo(root / "src" / "pipe")
    heard: list[tuple[str, str]] = []
    listed = [f.path for f in walk(root, on_skip=lambda rel, why: heard.append((rel, why)))]
    assert listed == [".gitignore", "src/.kodamaignore", "src/app.py"]
    assert sorted(heard) == [
        (".github/", HIDDEN_FOLDER),
        ("env/", SKIPPED_FOLDER),
        ("generated/", IGNORED),
        ("linked_folder", LINK),
        ("node_modules/", SKIPPED_FOLDER),
        ("pkg.egg-info/", SKIPPED_FOLDER),
        ("src/linked.py", LINK),
        ("src/local_settings.py", IGNORED),
        ("src/pipe", NOT_A_FILE),
        ("src/private.py", IGNORED),
    ]
    assert {why for _, why in heard} <= SKIP_REASONS
    assert listed == [f.path for f in walk(root)], "hearing changes nothing"


def test_exclude_patterns_count_as_ignored(tmp_path: Path) -> None:
    write(tmp_path, "keep.py")
    write(tmp_path, "drop.py")
    heard: dict[str, str] = {}
    listed = [f.path for f in walk(tmp_path, Ignorer(tmp_path, exclude=("drop.py",)),
                                   on_skip=heard.__setitem__)]
    assert listed == ["keep.py"] and heard == {"drop.py": IGNORED}


def test_an_unreadable_folder_is_heard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "locked/a.py")
    write(tmp_path, "b.py")
    scandir = os.scandir

    def refuse_locked(path: Path) -> object:  # chmod 0 does not stop root: refuse it here
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return scandir(path)

    monkeypatch.setattr("kodama.syntax.walk.os.scandir", refuse_locked)
    heard: dict[str, str] = {}
    listed = [f.path for f in walk(tmp_path, on_skip=heard.__setitem__)]
    assert listed == ["b.py"] and heard == {"locked/": UNREADABLE_FOLDER}
