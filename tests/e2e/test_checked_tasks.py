"""Generated tests and docstring examples are run before they are offered, end to end through
the real server and editors' capabilities, with scripted model answers (a scripted
OpenAI-compatible server as the remote backend, so the answers are exactly what each case
needs): only passing tests are offered, a failing one is repaired, a test that needs the
network fails inside the sandbox, tests that cannot pass give a message and no edit, a wrong
docstring example is fixed; and the user's files stay untouched until the edit is applied."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from helpers.lsp import apply_text_edits, start_client
from helpers.openai_fake import FakeOpenAI, Reply, serve

GEOMETRY = (
    "def clamp(value, low, high):\n"
    "    if low > high:\n"
    "        raise ValueError('low is above high')\n"
    "    return max(low, min(value, high))\n"
)

TESTS = '''def test_inside():
    assert clamp(2, 0, 3) == 2


def test_above():
    assert clamp(5, 0, 3) == 5


def test_download():
    import urllib.request
    assert urllib.request.urlopen("http://192.0.2.1/", timeout=5).status == 200
'''

REPAIRED = '''def test_above():
    assert clamp(5, 0, 3) == 3


def test_download():
    import socket
    assert socket.create_connection(("192.0.2.1", 80), timeout=5)
'''

WRONG = '''def test_above():
    assert clamp(5, 0, 3) == 5
'''

DOCSTRING = '''Clamp a value between two bounds.

    Examples:
        >>> clamp(5, 0, 3)
        5
        >>> clamp(1, 0, 3)
        1
    """
'''


def code(text: str) -> Reply:
    """A scripted answer: ``text``, then the end of its code block."""
    return Reply(pieces=(text, "\n```\n"))


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with serve(FakeOpenAI()) as server:
        yield server


def project(root: Path) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "geometry.py").write_text(GEOMETRY)
    (root / "tests").mkdir()
    (root / "tests" / "test_other.py").write_text("def test_nothing():\n    assert 1\n")
    return root / "pkg" / "geometry.py"


async def started(tmp_path: Path, model: Path, env: dict[str, str], spec: str,
                  fake: FakeOpenAI) -> tuple[LanguageClient, Path, list[types.WorkspaceEdit]]:
    source = project(tmp_path / "project")
    options = {"remote": {"url": fake.url, "model": "fake-model", "retries": 0},
               "tasks": {"tests": {"python": sys.executable, "repairs": 1}}}
    client = await start_client(str(model), spec, {**env, "KODAMA_CACHE_DIR": str(tmp_path / "c")},
                                options, root=source.parent.parent)
    edits: list[types.WorkspaceEdit] = []

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        edits.append(params.edit)
        return types.ApplyWorkspaceEditResult(applied=True)

    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=source.as_uri(), language_id="python",
                                             version=1, text=GEOMETRY)))
    return client, source, edits


def tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*"))
            if p.is_file()}


def messages(client: LanguageClient) -> list[str]:
    return [str(m.message) for m in client.messages]


def progress_messages(client: LanguageClient) -> list[str]:
    return [str(getattr(r, "message", "") or "") for reports in client.progress_reports.values()
            for r in reports]


WHERE = [{"line": 3, "character": 4}]


@pytest.mark.parametrize("spec", ["visual-studio-code", "neovim"])
async def test_only_passing_tests_are_offered_after_one_repair(
    tmp_path: Path, identifier_model_dir: Path, server_env: dict[str, str], spec: str,
    fake: FakeOpenAI,
) -> None:
    fake.replies = [code(TESTS), code(REPAIRED)]
    client, source, edits = await started(tmp_path, identifier_model_dir, server_env, spec, fake)
    root = source.parent.parent
    before = tree(root)
    try:
        test_uri = await client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="kodama.generateTests", arguments=[{"uri": source.as_uri(), **WHERE[0]}]))
        test_file = root / "tests" / "test_geometry.py"
        assert test_uri == test_file.as_uri(), messages(client)
        assert tree(root) == before, "nothing is written before the edit is applied"
        create, fill = edits[-1].document_changes  # type: ignore[misc]
        assert isinstance(create, types.CreateFile) and create.uri == test_uri
        text = apply_text_edits("", fill.edits)
        assert "from pkg.geometry import clamp" in text
        assert "def test_inside" in text and "== 3" in text and "== 5" not in text
        assert "test_download" not in text and "192.0.2.1" not in text
        shown = [m for m in messages(client) if "tests for clamp" in m]
        assert shown and shown[-1].startswith(
            "Kodama: tests for clamp: kept 2 passing tests (1 of them repaired), dropped 1 "
            "that failed: test_download: still failing after a repair:"), shown
        assert "network access is disabled" in shown[-1] or "unreachable" in shown[-1], shown
        repair = fake.posts()[-1].body["prompt"]
        assert "- `test_download`:" in repair and "network access is disabled" in repair
        assert "The real signature of `clamp`" in repair
        progress = progress_messages(client)
        assert "running tests 1/3" in progress and "running tests 3/3" in progress, progress
        assert any(p.startswith("repairing 2 failing tests") for p in progress), progress
        test_file.write_text(text)
        ran = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                              str(test_file)], cwd=root, capture_output=True, text=True,
                             timeout=120)
        assert ran.returncode == 0 and "2 passed" in ran.stdout, ran.stdout + ran.stderr
    finally:
        await client.shutdown_session()
        await client.stop()


async def test_tests_that_cannot_pass_give_a_message_and_no_edit(
    tmp_path: Path, identifier_model_dir: Path, server_env: dict[str, str], fake: FakeOpenAI,
) -> None:
    fake.replies = [code(WRONG), code(WRONG)]
    client, source, edits = await started(tmp_path, identifier_model_dir, server_env, "neovim",
                                          fake)
    root = source.parent.parent
    before = tree(root)
    try:
        result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="kodama.generateTests", arguments=[{"uri": source.as_uri(), **WHERE[0]}]))
        assert result is None and edits == []
        warning = client.messages[-1]
        assert warning.type == types.MessageType.Warning
        assert ("none of the 1 generated tests for 'clamp' passes (kept 0 passing tests, "
                "dropped 1 that failed: test_above: still failing after a repair: assert 3 == 5"
                in warning.message), warning.message
        assert warning.message.endswith("nothing was changed")
        assert tree(root) == before
    finally:
        await client.shutdown_session()
        await client.stop()


async def test_a_wrong_docstring_example_is_fixed_before_it_is_offered(
    tmp_path: Path, identifier_model_dir: Path, server_env: dict[str, str], fake: FakeOpenAI,
) -> None:
    fake.replies = [Reply(pieces=(DOCSTRING,))]
    client, source, edits = await started(tmp_path, identifier_model_dir, server_env,
                                          "visual-studio-code", fake)
    try:
        assert await client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="kodama.generateDocstring",
            arguments=[{"uri": source.as_uri(), **WHERE[0]}])) is True
        change: Any = edits[-1].document_changes[0]  # type: ignore[index]
        documented = apply_text_edits(GEOMETRY, change.edits)
        assert ">>> clamp(5, 0, 3)\n        3\n        >>> clamp(1, 0, 3)\n        1\n" in \
            documented, documented
        shown = [m for m in messages(client) if "docstring for clamp" in m]
        assert shown == ["Kodama: docstring for clamp: 2 examples checked, 2 kept: fixed "
                         "`clamp(5, 0, 3)` (it gives '3', not '5')"], messages(client)
        assert source.read_text() == GEOMETRY
    finally:
        await client.shutdown_session()
        await client.stop()
