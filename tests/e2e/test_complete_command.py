"""``kodama complete`` asks exactly what the language server asks: the same repository snippets,
the same prompt, the same completion, for the same file and position of a small repository
whose definition the completion needs lives in a sibling file."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types

from helpers.lsp import start_client
from kodama.server.commands.cli import main

SHAPES = (
    "class Rectangle:\n"
    "    def __init__(self, width: float, height: float) -> None:\n"
    "        self.width = width\n"
    "        self.height = height\n\n\n"
    "def make_square(size: float) -> Rectangle:\n"
    "    return Rectangle(size, size)\n"
)
APP = "from shapes import make_square\n\nsquare = make_square(3)\n\n\ndef area():\n    \n"
LINE, CHARACTER = 6, 4
"""Where both are asked (0-based, as LSP counts): the empty first line of a body, where a
multi-line completion takes repository snippets."""


def project(root: Path) -> Path:
    """A project (a marker, so the command finds the same root) with a sibling definition."""
    root.mkdir()
    (root / "pyproject.toml").write_text("[project]\nname = 'shapes'\n")
    (root / "shapes.py").write_text(SHAPES)
    (root / "app.py").write_text(APP)
    return root / "app.py"


async def server_answer(client: Any, app: Path) -> str:
    """The server's inline completion at (LINE, CHARACTER) of ``app``, once it is indexed."""
    for _ in range(200):
        ends = [reports[-1] for reports in client.progress_reports.values()
                if reports and isinstance(reports[-1], types.WorkDoneProgressEnd)
                and (reports[-1].message or "").startswith("indexed")]
        if ends:
            break
        await asyncio.sleep(0.05)
    else:
        pytest.fail("the workspace was never indexed")
    uri = app.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1,
                                             text=APP)))
    result = await client.text_document_inline_completion_async(types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=LINE, character=CHARACTER),
        context=types.InlineCompletionContext(
            trigger_kind=types.InlineCompletionTriggerKind.Automatic)))
    assert isinstance(result, types.InlineCompletionList) and len(result.items) == 1
    return str(result.items[0].insert_text)


async def test_complete_command_builds_the_servers_prompt_and_completion(
    tmp_path: Path, identifier_model_dir: Path, server_env: dict[str, str],
    capfd: pytest.CaptureFixture[str],
) -> None:
    app = project(tmp_path / "project")
    env = {**server_env, "KODAMA_CACHE_DIR": str(tmp_path / "server-cache")}
    client = await start_client(str(identifier_model_dir), "visual-studio-code", env,
                                root=app.parent)
    try:
        served = await server_answer(client, app)
    finally:
        await client.shutdown_session()
        await client.stop()
    log = capfd.readouterr().err
    snippets = re.search(r"completion snippets for \S+: (.*)", log)
    prompt = re.search(r"completion (?:single|multi): (\d+) tokens", log)
    assert snippets is not None and prompt is not None, log[-3000:]
    served_snippets = [tuple(s) for s in json.loads(snippets.group(1))]
    assert ("shapes.py", "definition") in served_snippets, "the sibling's definition is used"

    assert main(["complete", f"{app}:{LINE + 1}:{CHARACTER + 1}", "--json", "--model",
                 str(identifier_model_dir), "--threads", "1", "--log-level", "warning"]) == 0
    printed = json.loads(capfd.readouterr().out.strip().splitlines()[-1])
    assert [(s["path"], s["kind"]) for s in printed["snippets"]] == served_snippets
    assert printed["prompt_tokens"] == int(prompt.group(1)), "the same prompt"
    assert printed["completion"] == served and served.strip()
