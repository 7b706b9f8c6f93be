"""Tests for kodama.syntax.testlayout.planning: languages, sources outside the repository, and
test files that would be written through a link out of it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kodama.syntax.testlayout import (
    OutsideRepositoryError,
    UnsupportedLanguageError,
    check_target,
    detect_framework,
    plan_tests,
)
from kodama.syntax.testlayout.detect import scan

from .repo import make


@pytest.mark.parametrize("language", ["c", "cpp", "haskell"])
def test_unsupported_languages_raise_a_clear_error(tmp_path: Path, language: str) -> None:
    with pytest.raises(UnsupportedLanguageError, match="supported languages are python"):
        detect_framework(tmp_path, language)
    make(tmp_path, {"main.c": "int main(void) { return 0; }\n"})
    with pytest.raises(ValueError, match=repr(language)):
        plan_tests(tmp_path, tmp_path / "main.c", language, "main")



def test_python_source_outside_the_repository(tmp_path: Path) -> None:
    make(tmp_path, {"repo/a.py": "", "elsewhere/b.py": ""})
    with pytest.raises(ValueError, match="not inside"):
        plan_tests(tmp_path / "repo", tmp_path / "elsewhere/b.py", "python", "f")



def linked_repository(tmp_path: Path) -> tuple[Path, Path]:
    """A repository and, beside it, an ``outside`` project of its own."""
    make(tmp_path, {"repo/pyproject.toml": "", "repo/pkg/__init__.py": "",
                    "repo/pkg/mod.py": "def f():\n    return 1\n",
                    "outside/pyproject.toml": "", "outside/mod.py": "def f():\n    return 1\n",
                    "outside/tests/test_mod.py": "def test_secret():\n    assert True\n"})
    return tmp_path / "repo", tmp_path / "outside"


def test_a_source_reached_through_a_link_or_dot_segments_is_refused(tmp_path: Path) -> None:
    repo, outside = linked_repository(tmp_path)
    os.symlink(outside, repo / "linked")
    with pytest.raises(OutsideRepositoryError, match="symbolic link"):
        plan_tests(repo, repo / "linked" / "mod.py", "python", "f")
    with pytest.raises(OutsideRepositoryError, match="not inside the repository"):
        plan_tests(repo, repo / "pkg" / ".." / ".." / "outside" / "mod.py", "python", "f")


@pytest.mark.parametrize("link", ["tests", "tests/test_mod.py"])
def test_the_test_file_is_never_placed_through_a_link(tmp_path: Path, link: str) -> None:
    repo, outside = linked_repository(tmp_path)
    if link == "tests":  # the tests folder of the repository leads out of it
        os.symlink(outside / "tests", repo / "tests")
    else:  # an existing test file named for the module is a link to a file outside
        (repo / "tests").mkdir()
        (repo / "tests" / "test_other.py").write_text("def test_x():\n    assert True\n")
        os.symlink(outside / "tests" / "test_mod.py", repo / link)
    with pytest.raises(OutsideRepositoryError, match="would be outside the repository"):
        plan_tests(repo, repo / "pkg" / "mod.py", "python", "f")


def test_a_test_file_that_is_no_regular_file_is_refused(tmp_path: Path) -> None:
    repo, _ = linked_repository(tmp_path)
    (repo / "tests").mkdir()
    (repo / "tests" / "test_other.py").write_text("def test_x():\n    assert True\n")
    os.mkfifo(repo / "tests" / "test_mod.py")  # writing to it would block forever
    with pytest.raises(OutsideRepositoryError, match="not a regular file"):
        plan_tests(repo, repo / "pkg" / "mod.py", "python", "f")


def test_check_target_keeps_a_test_file_inside(tmp_path: Path) -> None:
    repo, outside = linked_repository(tmp_path)
    check_target(repo, repo / "tests" / "new" / "test_mod.py")
    os.symlink(outside, repo / "out")
    for path in (repo / "out" / "test_mod.py", repo / ".." / "outside" / "test_mod.py",
                 outside / "test_mod.py"):
        with pytest.raises(OutsideRepositoryError, match="nothing was written"):
            check_target(repo, path)


def test_nothing_is_read_through_a_link(tmp_path: Path) -> None:
    repo, outside = linked_repository(tmp_path)
    make(outside, {"package.json": '{"devDependencies": {"vitest": "1"}}'})
    make(repo, {"src/math.js": "export const add = (a, b) => a + b;\n"})
    os.symlink(outside / "package.json", repo / "package.json")
    assert scan(repo).read("package.json") == ""
    assert not scan(repo).is_file("package.json")
    assert plan_tests(repo, repo / "src" / "math.js", "javascript", "add").framework == "jest"
