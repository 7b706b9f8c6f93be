"""Hover explanations and the docstring / tests code actions on the real default model, through
a real LSP session (marked ``real_model``; CI runs it): the issue's definition of done."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from lsprotocol import types

from helpers.lsp import apply_text_edits, start_client
from kodama.syntax import docstrings
from kodama.syntax.analysis import parses

pytestmark = pytest.mark.real_model

GEOMETRY = (
    "def clamp(value, low, high):\n"
    "    if low > high:\n"
    "        raise ValueError('low is above high')\n"
    "    return max(low, min(value, high))\n"
)


async def test_hover_docstring_and_tests_in_an_lsp_session(
    default_model_dir: Path, tmp_path: Path
) -> None:
    root = tmp_path / "project"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    source = root / "pkg" / "geometry.py"
    source.write_text(GEOMETRY)
    (root / "tests").mkdir()
    (root / "tests" / "test_other.py").write_text("def test_nothing():\n    assert True\n")
    env = {"KODAMA_CACHE_DIR": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1"}
    client = await start_client(str(default_model_dir), "visual-studio-code", env,
                                {"tasks": {"hoverWaitMs": 600000,
                                           "tests": {"python": sys.executable}}}, root=root)
    edits: list[types.WorkspaceEdit] = []

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        edits.append(params.edit)
        return types.ApplyWorkspaceEditResult(applied=True)

    uri = source.as_uri()
    try:
        client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1,
                                                 text=GEOMETRY)))
        hover = await client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=0, character=5)))
        assert hover is not None and isinstance(hover.contents, types.MarkupContent)
        markdown = hover.contents.value
        assert markdown.startswith("**function `clamp`** · *Kodama*"), markdown
        assert any(word in markdown.lower() for word in ("range", "between", "limit", "bound")), \
            markdown

        where = [{"uri": uri, "line": 1, "character": 4}]
        assert await client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="kodama.generateDocstring", arguments=where)) is True
        change = edits[-1].document_changes[0]  # type: ignore[index]
        documented = apply_text_edits(GEOMETRY, change.edits)  # type: ignore[union-attr]
        assert parses("python", documented), documented
        target = docstrings.targets("python", documented)[0]
        assert target.docstring and "low" in target.docstring, documented
        assert documented.startswith('def clamp(value, low, high):\n    """'), documented

        test_uri = await client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="kodama.generateTests", arguments=where))
        test_file = root / "tests" / "test_geometry.py"
        assert test_uri == test_file.as_uri(), client.messages
        create, fill = edits[-1].document_changes  # type: ignore[misc]
        assert isinstance(create, types.CreateFile) and create.uri == test_uri
        text = apply_text_edits("", fill.edits)
        assert "from pkg.geometry import clamp" in text and parses("python", text), text
        assert not test_file.exists()  # offered as an edit: checked in a scratch copy
        shown = [str(m.message) for m in client.messages if "tests for clamp" in str(m.message)]
        assert shown and ("passing tests" in shown[-1] or "tests pass" in shown[-1]), shown
        test_file.write_text(text)
        ran = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)],
            cwd=root, capture_output=True, text=True, timeout=120)
        assert ran.returncode == 0, ran.stdout + ran.stderr  # only passing tests are offered
    finally:
        await client.shutdown_session()
        await client.stop()


def test_cli_tests_writes_only_passing_tests(
    default_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``kodama tests FILE:LINE --apply`` on the real model: the tests are run in a scratch
    copy first, and the file written holds only tests that pass."""
    from kodama.server.commands.cli import main

    root = tmp_path / "project"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    source = root / "pkg" / "geometry.py"
    source.write_text(GEOMETRY)
    (root / "tests").mkdir()
    (root / "tests" / "test_other.py").write_text("def test_nothing():\n    assert 1\n")
    (root / "pyproject.toml").write_text("[project]\nname = 'pkg'\n")
    monkeypatch.setenv("KODAMA_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("VIRTUAL_ENV", str(Path(sys.executable).parent.parent))
    assert main(["tests", f"{source}:4", "--apply", "--model", str(default_model_dir),
                 "--log-level", "warning"]) == 0
    err = capsys.readouterr().err
    assert "running tests" in err and ("passing tests" in err or "tests pass" in err), err
    test_file = root / "tests" / "test_geometry.py"
    ran = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)],
        cwd=root, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stdout + ran.stderr + test_file.read_text()


async def test_tests_that_cannot_pass_give_a_message_and_no_edit_in_neovim(
    default_model_dir: Path, tmp_path: Path
) -> None:
    """With Neovim's capabilities, for a module the project's interpreter cannot import (a
    dependency is missing), every generated test fails, whatever the model writes: a clear
    message, no edit, nothing written."""
    root = tmp_path / "project"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    source = root / "pkg" / "prices.py"
    text = ("import not_installed_anywhere\n\n\n"
            "def discount(price, percent):\n    return price * (100 - percent) / 100\n")
    source.write_text(text)
    before = {p: p.read_text() for p in root.rglob("*") if p.is_file()}
    env = {"KODAMA_CACHE_DIR": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1"}
    client = await start_client(str(default_model_dir), "neovim", env,
                                {"tasks": {"tests": {"python": sys.executable, "repairs": 1}}},
                                root=root)
    edits: list[types.WorkspaceEdit] = []

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        edits.append(params.edit)
        return types.ApplyWorkspaceEditResult(applied=True)

    try:
        client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=source.as_uri(), language_id="python",
                                                 version=1, text=text)))
        result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="kodama.generateTests",
            arguments=[{"uri": source.as_uri(), "line": 4, "character": 4}]))
        assert result is None and edits == []
        warning = client.messages[-1]
        assert warning.type == types.MessageType.Warning, client.messages
        assert "generated tests for 'discount' passes" in warning.message, warning.message
        assert "not_installed_anywhere" in warning.message, warning.message
        assert warning.message.endswith("nothing was changed"), warning.message
        assert {p: p.read_text() for p in root.rglob("*") if p.is_file()} == before
    finally:
        await client.shutdown_session()
        await client.stop()
