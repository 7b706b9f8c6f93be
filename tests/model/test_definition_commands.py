"""``kodama explain|docstring|tests`` end to end on the tiny identifier-writing model: the words
are noise, but the placement, the imports, the diff and the parse checks are real."""

from __future__ import annotations

import sys
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


def scripted(monkeypatch: pytest.MonkeyPatch, *answers: str) -> list[str]:
    """The model's answers, in order, in place of generation; the chats asked are recorded."""
    from kodama.model.completion import Generation
    from kodama.model.tasks import generate

    asked: list[str] = []
    left = list(answers)

    def run_chat(_model: object, request: generate.ChatRequest, **_kw: object) -> Generation:
        asked.append(request.messages[-1]["content"])
        return Generation(text=left.pop(0), reason="stop")

    monkeypatch.setattr(generate, "run_chat", run_chat)
    return asked


def test_docstring_examples_are_run_and_a_wrong_one_fixed(
    tmp_path: Path, identifier_model_dir: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = project(tmp_path)
    monkeypatch.setenv("VIRTUAL_ENV", str(Path(sys.executable).parent.parent))
    scripted(monkeypatch, "Scale values.\n\n    Examples:\n        >>> scale([1, 2], 3)\n"
                          "        [3, 5]\n    \"\"\"",
             " the values.\n        factor: the factor.\n\n    Returns:\n        The scaled "
             "values.\n    \"\"\"")  # the follow-up asking for the parameters
    assert run(["docstring", f"{source}:2", "--apply"], identifier_model_dir) == 0
    assert ">>> scale([1, 2], 3)\n        [3, 6]\n" in source.read_text()
    assert "1 examples checked, 1 kept: fixed `scale([1, 2], 3)` (it gives '[3, 6]', not " \
        "'[3, 5]')" in capsys.readouterr().err


def test_tests_are_run_repaired_and_only_passing_ones_written(
    tmp_path: Path, identifier_model_dir: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = project(tmp_path)
    monkeypatch.setenv("VIRTUAL_ENV", str(Path(sys.executable).parent.parent))
    asked = scripted(
        monkeypatch,
        "def test_doubles():\n    assert scale([1], 2) == [2]\n\n\n"
        "def test_wrong():\n    assert scale([1], 2) == [3]\n",
        "def test_wrong():\n    assert scale([1], 3) == [3]\n")
    code = run(["tests", f"{source}:2", "--apply"], identifier_model_dir)
    err = capsys.readouterr().err
    assert code == 0, err
    assert "2 generated tests pass (1 of them repaired)" in err, err
    assert "- `test_wrong`: assert [2] == [3]" in asked[1]
    written = (tmp_path / "tests" / "test_maths.py").read_text()
    assert "def test_doubles" in written and "scale([1], 3) == [3]" in written
    assert "== [3]\n" in written and "scale([1], 2) == [3]" not in written
