"""``kodama explain|docstring|tests`` end to end on the tiny identifier-writing model: the words
are noise, but the placement, the imports, the diff and the parse checks are real."""

from __future__ import annotations

from pathlib import Path

import pytest

from kodama.server.commands.cli import main
from kodama.syntax import docstrings
from kodama.syntax.analysis import parses

SOURCE = "def scale(values, factor):\n    return [v * factor for v in values]\n"


def project(tmp_path: Path) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "maths.py").write_text(SOURCE)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_other.py").write_text("def test_x():\n    assert True\n")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'pkg'\n")
    return tmp_path / "pkg" / "maths.py"


def run(args: list[str], model: Path) -> int:
    return main([*args, "--model", str(model), "--threads", "1", "--log-level", "warning"])


def test_docstring_prints_a_diff_then_applies(
    tmp_path: Path, identifier_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = project(tmp_path)
    assert run(["docstring", f"{source}:2"], identifier_model_dir) == 0
    diff = capsys.readouterr().out
    assert diff.startswith(f"--- a/{source}\n+++ b/{source}\n")
    assert '+    """' in diff and source.read_text() == SOURCE, "a diff only"
    assert run(["docstring", f"{source}:1", "--apply"], identifier_model_dir) == 0
    text = source.read_text()
    assert parses("python", text)
    target = docstrings.targets("python", text)[0]
    assert target.name == "scale" and target.docstring


def test_tests_without_a_test_function_are_refused_clearly(
    tmp_path: Path, identifier_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = project(tmp_path)
    assert run(["tests", f"{source}:1", "--apply"], identifier_model_dir) == 1
    assert "wrote no pytest tests for 'scale'" in capsys.readouterr().err
    assert not (tmp_path / "tests" / "test_maths.py").exists()


def test_explain_prints_markdown(
    tmp_path: Path, identifier_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = project(tmp_path)
    assert run(["explain", f"{source}:1:5"], identifier_model_dir) == 0
    assert capsys.readouterr().out.startswith("**function `scale`** · *Kodama*\n\n")
