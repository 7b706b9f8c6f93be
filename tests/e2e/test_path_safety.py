"""Path safety through the real server: the code-action commands neither read nor write outside
the workspace roots, whatever the URI they are given (a folder linked out of the repository,
``..`` climbing out of it, a file the editor does not have open) or the test folder they would
write into (a link out of the repository).

The server runs without a model: every refusal happens before anything is generated, and a
refusal is all these tests look for (with, each time, the outside folder left untouched).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from helpers.lsp import start_client

SOURCE = "def area(width, height):\n    return width * height\n"
COMMANDS = ("kodama.explain", "kodama.generateDocstring", "kodama.generateTests")


@dataclass
class Layout:
    """A workspace and, beside it, a project it must never reach."""

    workspace: Path
    outside: Path

    def snapshot(self) -> dict[str, bytes]:
        """Every file of the outside project, with its content."""
        return {p.relative_to(self.outside).as_posix(): p.read_bytes()
                for p in sorted(self.outside.rglob("*")) if p.is_file()}


def layout(tmp_path: Path) -> Layout:
    """``outside/`` (a project of its own, with a ``tests/`` folder) and ``workspace/``, whose
    ``linked`` folder and ``tests`` folder are symbolic links into it."""
    outside = tmp_path / "outside"
    (outside / "pkg").mkdir(parents=True)
    (outside / "tests").mkdir()
    (outside / "pyproject.toml").write_text("[project]\nname = 'outside'\n")
    (outside / "pkg" / "mod.py").write_text(SOURCE)
    (outside / "tests" / "test_other.py").write_text("def test_other():\n    assert True\n")
    workspace = tmp_path / "workspace"
    (workspace / "app").mkdir(parents=True)
    (workspace / "pyproject.toml").write_text("[project]\nname = 'workspace'\n")
    (workspace / "app" / "geometry.py").write_text(SOURCE)
    os.symlink(outside / "pkg", workspace / "linked")
    os.symlink(outside / "tests", workspace / "tests")
    return Layout(workspace, outside)


@pytest_asyncio.fixture
async def served(tmp_path: Path, server_env: dict[str, str]
                 ) -> AsyncIterator[tuple[LanguageClient, Layout]]:
    """A model-less server on the workspace of :func:`layout`."""
    paths = layout(tmp_path)
    client = await start_client(None, "visual-studio-code",
                                {**server_env, "KODAMA_CACHE_DIR": str(tmp_path / "cache")},
                                root=paths.workspace)
    yield client, paths
    await client.shutdown_session()
    await client.stop()


def open_document(client: LanguageClient, uri: str) -> None:
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1,
                                             text=SOURCE)))


async def run(client: LanguageClient, command: str, uri: str) -> object:
    return await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command=command, arguments=[{"uri": uri, "line": 1, "character": 4}]))


async def actions(client: LanguageClient, uri: str) -> list[str]:
    found = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(types.Position(1, 4), types.Position(1, 4)),
        context=types.CodeActionContext(diagnostics=[])))
    return [action.title for action in found or []]


@pytest.mark.parametrize("how", ["linked folder", "dot segments"])
async def test_commands_refuse_a_document_outside_the_workspace(
    served: tuple[LanguageClient, Layout], how: str
) -> None:
    client, paths = served
    before = paths.snapshot()
    if how == "linked folder":
        uri = (paths.workspace / "linked" / "mod.py").as_uri()
    else:  # starts inside the workspace, climbs out of it
        uri = paths.workspace.as_uri() + "/app/../../outside/pkg/mod.py"
    open_document(client, uri)
    assert await actions(client, uri) == [], "nothing is offered for a file outside"
    for command in COMMANDS:
        with pytest.raises(JsonRpcException, match="outside the workspace") as refused:
            await run(client, command, uri)
        assert "mod.py" in str(refused.value), "the message names the file"
    assert paths.snapshot() == before, "nothing was written outside the workspace"
    inside = (paths.workspace / "app" / "geometry.py").as_uri()
    open_document(client, inside)
    assert "Kodama: Generate tests for function area" in await actions(client, inside)


async def test_a_command_for_a_file_the_editor_has_not_open_is_refused(
    served: tuple[LanguageClient, Layout],
) -> None:
    client, paths = served
    for uri, reason in (((paths.workspace / "app" / "geometry.py").as_uri(), "not open"),
                        ((paths.outside / "pkg" / "mod.py").as_uri(), "outside the workspace")):
        with pytest.raises(JsonRpcException, match=reason):
            await run(client, "kodama.generateTests", uri)


async def test_tests_are_never_placed_through_a_link_out_of_the_repository(
    served: tuple[LanguageClient, Layout],
) -> None:
    client, paths = served
    before = paths.snapshot()
    uri = (paths.workspace / "app" / "geometry.py").as_uri()
    open_document(client, uri)
    assert await run(client, "kodama.generateTests", uri) is None
    warning = client.messages[-1]
    assert warning.type == types.MessageType.Warning
    assert "would be outside the repository" in warning.message
    assert "nothing was written" in warning.message
    assert paths.snapshot() == before
    assert not (paths.workspace / "app" / "test_geometry.py").exists()
