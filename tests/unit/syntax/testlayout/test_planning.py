"""Tests for kodama.syntax.testlayout.planning: languages, and sources outside the repository."""

from __future__ import annotations

from pathlib import Path

import pytest

from kodama.syntax.testlayout import UnsupportedLanguageError, detect_framework, plan_tests

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

