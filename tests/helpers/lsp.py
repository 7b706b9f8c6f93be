"""Starting ``kodama serve`` under pytest-lsp's client, initialised as a recorded real client."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from kodama.server.protocol import STATUS_NOTIFICATION, status_from


async def start_client(
    model: str | None, spec: str, env: dict[str, str], options: dict[str, Any] | None = None,
    root: Path | None = None, wrapper: tuple[str, ...] = (),
) -> LanguageClient:
    """Start a server, initialise it as ``spec`` would, and wait until its model is settled.

    ``root`` is the workspace folder (default: the current directory); ``wrapper`` runs the
    server through another command (``("unshare", "-rn")``)."""
    command = [*wrapper, sys.executable, "-m", "kodama.server", "serve", "--log-level", "debug"]
    command += ["--model", model] if model else ["--no-model"]
    config = ClientServerConfig(server_command=command, server_env={**os.environ, **env})
    client = await config.start()
    assert isinstance(client, LanguageClient)
    statuses: list[Any] = []
    settled = asyncio.get_running_loop().create_future()

    @client.feature(STATUS_NOTIFICATION)
    def on_status(params: Any) -> None:
        statuses.append(status_from(params))
        if status_from(params)["state"] in ("ready", "error", "disabled") and not settled.done():
            settled.set_result(params)

    client.kodama_statuses = statuses  # type: ignore[attr-defined]
    result = await client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities(spec),
        initialization_options={"completion": {"debounceMs": 10}, **(options or {})},
        root_uri=(root or Path.cwd()).as_uri(),
    ))
    client.kodama_init = result  # type: ignore[attr-defined]
    await asyncio.wait_for(settled, timeout=120)
    return client


def apply_text_edits(text: str, edits: Any) -> str:
    """``text`` after LSP ``edits`` (positions counted in characters: for ASCII test texts)."""
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(pos: types.Position) -> int:
        return starts[pos.line] + pos.character if pos.line < len(starts) else len(text)

    for edit in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
        text = text[:offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end):]
    return text


async def open_and_complete(
    client: LanguageClient, uri: str, text: str, line: int, character: int, *,
    invoked: bool = True, language_id: str = "python",
) -> types.InlineCompletionList | list[types.InlineCompletionItem] | None:
    """Open ``text`` as ``uri`` (version 1) and ask for ghost text at ``line:character``,
    as an explicit request (``invoked``) or as the editor does while typing."""
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id=language_id, version=1,
                                             text=text)))
    trigger = (types.InlineCompletionTriggerKind.Invoked if invoked
               else types.InlineCompletionTriggerKind.Automatic)
    return await client.text_document_inline_completion_async(types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=line, character=character),
        context=types.InlineCompletionContext(trigger_kind=trigger)))
