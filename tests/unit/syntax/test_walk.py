"""The repository walk and its ignore rules: one set of rules for every feature."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kodama.syntax.ignore import Ignorer
from kodama.syntax.walk import inside, walk


def write(root: Path, rel: str, text: str = "x = 1\n") -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def paths(root: Path, ignorer: Ignorer | None = None) -> list[str]:
    return [f.path for f in walk(root, ignorer)]


def test_shallow_first_sorted_with_sizes(tmp_path: Path) -> None:
    write(tmp_path, "b/deep/z.py")
    write(tmp_path, "b/y.py", "yy\n")
    write(tmp_path, "a.py")
    write(tmp_path, "c.py")
    files = list(walk(tmp_path))
    assert [f.path for f in files] == ["a.py", "c.py", "b/y.py", "b/deep/z.py"]
    assert files[2].size == 3 and files[2].mtime_ns > 0


def test_skips_hidden_vendored_venv_and_ignored(tmp_path: Path) -> None:
    write(tmp_path, "src/app.py")
    write(tmp_path, ".github/scripts/ci.py")
    write(tmp_path, ".aws/credentials")
    write(tmp_path, "node_modules/lib/index.js")
    write(tmp_path, "pkg.egg-info/top.py")
    write(tmp_path, "env/pyvenv.cfg", "home = /usr\n")
    write(tmp_path, "env/lib/site.py")
    write(tmp_path, "out/gen.py")
    write(tmp_path, "src/secret.local.py")
    write(tmp_path, ".gitignore", "out/\n")
    write(tmp_path, "src/.kodamaignore", "*.local.py\n")
    assert paths(tmp_path) == [".gitignore", "src/.kodamaignore", "src/app.py"]


def test_never_follows_symlinks(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write(outside, "private.py", "TOKEN = 'x'\n")
    repo = tmp_path / "repo"
    write(repo, "main.py")
    os.symlink(outside, repo / "linked_dir")
    os.symlink(outside / "private.py", repo / "linked_file.py")
    assert paths(repo) == ["main.py"]


def test_exclude_patterns_of_the_callers_ignorer(tmp_path: Path) -> None:
    write(tmp_path, "a.py")
    write(tmp_path, "tests/test_a.py")
    assert paths(tmp_path, Ignorer(tmp_path, ("/tests/test_a.py",))) == ["a.py"]


@pytest.mark.parametrize(("rel", "is_dir", "ignored"), [
    ("logs/x.log", False, True),
    ("logs/keep.log", False, False),  # a deeper file takes a path back with "!"
    ("pkg/data.bin", False, True),  # the root's rules reach every folder
    ("pkg/sub/data.bin", False, True),
    ("pkg/only_here.txt", False, True),  # anchored to pkg/.gitignore's folder
    ("only_here.txt", False, False),
    ("pkg/gen", True, True),
    ("pkg/gen", False, False),  # "gen/" names folders only
    ("a/x/y/b.py", False, True),  # ** across folders
    ("file1.py", False, True),  # character class
    ("drafts/todo.py", False, True),  # .kodamaignore after .gitignore
])
def test_nested_ignore_files(tmp_path: Path, rel: str, is_dir: bool, ignored: bool) -> None:
    write(tmp_path, ".gitignore", "*.bin\n*.log\na/**/b.py\nfile[0-9].py\n")
    write(tmp_path, ".kodamaignore", "drafts/\n")
    write(tmp_path, "logs/.gitignore", "!keep.log\n")
    write(tmp_path, "pkg/.gitignore", "/only_here.txt\ngen/\n")
    assert Ignorer(tmp_path).ignored(rel, is_dir) is ignored


def test_nothing_inside_an_ignored_folder_comes_back(tmp_path: Path) -> None:
    write(tmp_path, ".gitignore", "build_out/\n!build_out/keep.py\n")
    write(tmp_path, "build_out/keep.py")
    assert Ignorer(tmp_path).ignored("build_out/keep.py") is True
    assert paths(tmp_path) == [".gitignore"]


def test_a_symlinked_ignore_file_is_not_read(tmp_path: Path) -> None:
    rules = write(tmp_path / "elsewhere", "rules", "!*.py\n")
    repo = tmp_path / "repo"
    write(repo, ".kodamaignore", "*.py\n")
    os.symlink(rules, repo / ".gitignore")
    assert Ignorer(repo).ignored("a.py") is True


def test_inside_refuses_escapes_and_links(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write(outside, "x.py")
    repo = tmp_path / "repo"
    write(repo, "pkg/ok.py")
    os.symlink(outside, repo / "link")
    assert inside(repo, "pkg/ok.py") == repo / "pkg/ok.py"
    for bad in ("../outside/x.py", "pkg/../../outside/x.py", "/etc/passwd", "link/x.py", "",
                "pkg//ok.py"):
        assert inside(repo, bad) is None, bad
