"""Hover explanations and the Explain / Generate docstring / Generate tests code actions, end to
end through the real server on the tiny identifier-writing model (its words are noise, but
where they land, what is imported and what still parses is real)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from helpers.lsp import apply_text_edits, start_client
from kodama.syntax import docstrings
from kodama.syntax.analysis import parses

GEOMETRY = (
    "\"\"\"Shapes.\"\"\"\n\n\n"
    "def area(width, height):\n"
    "    if width < 0:\n"
    "        raise ValueError(width)\n"
    "    return width * height\n\n\n"
    "def documented():\n"
    "    \"\"\"Already documented.\"\"\"\n"
    "    return 1\n"
)
EXISTING_TEST = "import pytest\n\n\ndef test_nothing():\n    assert True\n"


def project(root: Path) -> Path:
    """A small package with pytest tests in ``tests/``."""
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "geometry.py").write_text(GEOMETRY)
    (root / "tests").mkdir()
    (root / "tests" / "test_other.py").write_text(EXISTING_TEST)
    (root / "pyproject.toml").write_text("[tool.pytest.ini_options]\ntestpaths = ['tests']\n")
    return root / "pkg" / "geometry.py"


async def started(tmp_path: Path, model: Path, env: dict[str, str], spec: str,
                  refuse: bool = False) -> tuple[LanguageClient, Path, list[types.WorkspaceEdit]]:
    """The server on ``project``, geometry.py open; edits are recorded and applied, or, with
    ``refuse``, answered with an error (as eglot does when the user declines its prompt)."""
    source = project(tmp_path / "project")
    client = await start_client(str(model), spec, {**env, "KODAMA_CACHE_DIR": str(tmp_path / "c")},
                                {"tasks": {"hoverWaitMs": 120000}}, root=tmp_path / "project")
    edits: list[types.WorkspaceEdit] = []
    converter = client.protocol._converter

    def command_or_action(obj: Any, _: Any) -> types.Command | types.CodeAction:
        # lsprotocol reads every code action that carries a command as a Command; editors
        # tell them apart by the type of "command" (a string only in a Command).
        kind = types.Command if isinstance(obj.get("command"), str) else types.CodeAction
        return converter.structure(obj, kind)  # type: ignore[no-any-return]

    converter.register_structure_hook(
        types.Command | types.CodeAction, command_or_action)  # type: ignore[arg-type]

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        if refuse:
            raise RuntimeError("declined by the user")
        edits.append(params.edit)
        return types.ApplyWorkspaceEditResult(applied=True)

    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=source.as_uri(), language_id="python",
                                             version=1, text=GEOMETRY)))
    return client, source, edits


def hover_params(source: Path, line: int, character: int) -> types.HoverParams:
    return types.HoverParams(text_document=types.TextDocumentIdentifier(uri=source.as_uri()),
                             position=types.Position(line=line, character=character))


async def test_hover_explains_a_function_and_answers_from_cache(
    tmp_path: Path, identifier_model_dir: Path, server_env: dict[str, str]
) -> None:
    client, source, _ = await started(tmp_path, identifier_model_dir, server_env,
                                      "visual-studio-code")
    try:
        first = await client.text_document_hover_async(hover_params(source, 3, 5))
        assert first is not None and isinstance(first.contents, types.MarkupContent)
        assert first.contents.kind == types.MarkupKind.Markdown
        assert first.contents.value.startswith("**function `area`** · *Kodama*\n\n")
        assert "Writing an explanation" not in first.contents.value
        began = [r[0] for r in client.progress_reports.values()
                 if r and isinstance(r[0], types.WorkDoneProgressBegin)
                 and "explaining area" in (r[0].message or "")]
        assert began and began[0].cancellable, "a cancellable progress bar while generating"
        again = await client.text_document_hover_async(hover_params(source, 3, 1))
        assert again is not None and again.contents == first.contents
        # Inside the body, on a blank line, or on another definition's body: no explanation.
        assert await client.text_document_hover_async(hover_params(source, 5, 10)) is None
        assert await client.text_document_hover_async(hover_params(source, 1, 0)) is None
    finally:
        await client.shutdown_session()
        await client.stop()


@pytest.mark.parametrize("spec", ["visual-studio-code", "neovim", "emacs"])
async def test_code_actions_generate_docstring_and_tests(
    tmp_path: Path, identifier_model_dir: Path, server_env: dict[str, str], spec: str
) -> None:
    client, source, edits = await started(tmp_path, identifier_model_dir, server_env, spec)
    uri = source.as_uri()
    try:
        actions = await client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(types.Position(4, 4), types.Position(4, 4)),
            context=types.CodeActionContext(diagnostics=[])))
        assert actions is not None
        titles = [a.title for a in actions]
        assert titles == ["Kodama: Explain function area",
                          "Kodama: Generate docstring for function area",
                          "Kodama: Generate tests for function area"]
        documented = await client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(types.Position(10, 4), types.Position(10, 4)),
            context=types.CodeActionContext(diagnostics=[])))
        assert documented is not None
        assert not any("docstring" in a.title for a in documented), "it has one already"
        selected = await client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(types.Position(4, 0), types.Position(6, 0)),
            context=types.CodeActionContext(diagnostics=[], only=[
                types.CodeActionKind.RefactorRewrite])))
        assert selected is not None
        assert [a.title for a in selected] == ["Kodama: Generate docstring for function area"]
        selected = await client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(types.Position(4, 4), types.Position(6, 0)),
            context=types.CodeActionContext(diagnostics=[])))
        assert selected is not None and selected[0].title == "Kodama: Explain selection"
        explain_selection = selected[0].command
        assert explain_selection is not None
        explained = await client.workspace_execute_command_async(types.ExecuteCommandParams(
            command=explain_selection.command, arguments=explain_selection.arguments))
        assert explained["markdown"].startswith("**selected code `lines 5–6`** · *Kodama*\n\n")

        commands = {a.title.split(" for ")[0]: a.command for a in actions
                    if isinstance(a, types.CodeAction)}
        doc_command = commands["Kodama: Generate docstring"]
        assert doc_command is not None
        assert await client.workspace_execute_command_async(types.ExecuteCommandParams(
            command=doc_command.command, arguments=doc_command.arguments)) is True
        change = edits[-1].document_changes[0]  # type: ignore[index]
        assert isinstance(change, types.TextDocumentEdit)
        assert change.text_document.uri == uri and change.text_document.version == 1
        documented_text = apply_text_edits(GEOMETRY, list(change.edits))  # type: ignore[arg-type]
        assert parses("python", documented_text)
        target = docstrings.target_at("python", documented_text, documented_text.index("area"))
        assert target is not None and target.docstring, "the docstring is the first statement"
        assert documented_text.count('"""') == GEOMETRY.count('"""') + 2

        # The identifier model writes no test function: the user is told, nothing changes.
        tests_command = commands["Kodama: Generate tests"]
        assert tests_command is not None
        applied = len(edits)
        assert await client.workspace_execute_command_async(types.ExecuteCommandParams(
            command=tests_command.command, arguments=tests_command.arguments)) is None
        warning = client.messages[-1]
        assert warning.type == types.MessageType.Warning
        assert "wrote no pytest tests for 'area'; nothing was changed" in warning.message
        assert len(edits) == applied
        assert not (tmp_path / "project" / "tests" / "test_geometry.py").exists()
    finally:
        await client.shutdown_session()
        await client.stop()


async def test_commands_reject_bad_arguments(
    tmp_path: Path, identifier_model_dir: Path, server_env: dict[str, str]
) -> None:
    client, source, _ = await started(tmp_path, identifier_model_dir, server_env,
                                      "visual-studio-code")
    try:
        for arguments in ([], [{"uri": source.as_uri()}], [{"uri": "file:///nope.py", "line": 0,
                                                            "character": 0}],
                          [{"uri": source.as_uri(), "line": 999, "character": 0}]):
            with pytest.raises(Exception, match=r"argument|not open|outside"):
                await client.workspace_execute_command_async(types.ExecuteCommandParams(
                    command="kodama.generateDocstring", arguments=arguments))
        # Still answering afterwards.
        hover = await client.text_document_hover_async(hover_params(source, 3, 5))
        assert hover is not None
    finally:
        await client.shutdown_session()
        await client.stop()



async def test_an_edit_the_editor_refuses_with_an_error_is_a_warning(
    tmp_path: Path, identifier_model_dir: Path, server_env: dict[str, str]
) -> None:
    client, source, edits = await started(tmp_path, identifier_model_dir, server_env, "emacs",
                                          refuse=True)
    try:
        actions = await client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=source.as_uri()),
            range=types.Range(types.Position(4, 4), types.Position(4, 4)),
            context=types.CodeActionContext(diagnostics=[])))
        assert actions is not None
        command = next(a.command for a in actions if "docstring" in a.title)
        assert command is not None
        assert await client.workspace_execute_command_async(types.ExecuteCommandParams(
            command=command.command, arguments=command.arguments)) is False
        warning = client.messages[-1]
        assert warning.type == types.MessageType.Warning
        assert warning.message.startswith("Kodama: the editor did not apply the docstring (")
        assert not any(m.type == types.MessageType.Error for m in client.messages)
        assert edits == []
    finally:
        await client.shutdown_session()
        await client.stop()
