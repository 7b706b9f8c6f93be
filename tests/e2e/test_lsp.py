"""The language server end to end, through pytest-lsp's client with real clients' capabilities.

The tiny random model proves plumbing (lifecycle, positions, cancellation, robustness), not
quality; the real model's completions are checked in tests/model/test_real_model.py.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import time
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from helpers.lsp import start_client

PY_URI = "file:///work/demo/app.py"
PY_TEXT = (
    'def greet(name):\n    """Say hello 😀 to 漢字."""\n    message = "hi " + name\n    return \n'
)


def send_raw(client: LanguageClient, body: bytes) -> None:
    """Write one framed message straight to the server's stdin, bypassing the client."""
    proc: Any = client._server
    proc.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))


def open_doc(client: LanguageClient, uri: str, text: str, language: str = "python") -> None:
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id=language, version=1, text=text)))


def change(client: LanguageClient, uri: str, version: int, start: tuple[int, int],
           end: tuple[int, int], text: str) -> None:
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(line=start[0], character=start[1]),
                              end=types.Position(line=end[0], character=end[1])),
            text=text)]))


def inline_params(uri: str, line: int, character: int) -> types.InlineCompletionParams:
    return types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=line, character=character),
        context=types.InlineCompletionContext(
            trigger_kind=types.InlineCompletionTriggerKind.Automatic))


async def inline(client: LanguageClient, uri: str, line: int, character: int) -> list[str]:
    result = await client.text_document_inline_completion_async(
        inline_params(uri, line, character))
    assert isinstance(result, types.InlineCompletionList)
    return [str(item.insert_text) for item in result.items]


async def test_capabilities_and_model_ready(client: LanguageClient) -> None:
    caps = client.kodama_init.capabilities  # type: ignore[attr-defined]
    assert caps.inline_completion_provider is not None
    assert caps.completion_provider is not None
    assert caps.position_encoding in (None, types.PositionEncodingKind.Utf16)
    sync = caps.text_document_sync
    assert sync == types.TextDocumentSyncKind.Incremental or (
        sync.change == types.TextDocumentSyncKind.Incremental)
    states = [s["state"] for s in client.kodama_statuses]  # type: ignore[attr-defined]
    assert states[0] == "loading" and states[-1] == "ready", states


async def test_progress_reported_while_loading(client: LanguageClient) -> None:
    caps = client.capabilities
    if not (caps and caps.window and caps.window.work_done_progress):
        pytest.skip("this client does not accept server-initiated progress")
    await asyncio.sleep(0.2)  # the end notification may trail the status by a message
    reports = [r for token in client.progress_reports.values() for r in token]
    kinds = [type(r).__name__ for r in reports]
    assert kinds[0] == "WorkDoneProgressBegin" and kinds[-1] == "WorkDoneProgressEnd", kinds


async def test_completions_follow_incremental_edits(client: LanguageClient) -> None:
    open_doc(client, PY_URI, PY_TEXT)
    first = await inline(client, PY_URI, 3, 11)
    assert len(first) == 1 and first[0].strip(), first
    # Type on the line with the emoji (UTF-16: 😀 is two code units), then after it.
    change(client, PY_URI, 2, (1, 17), (1, 17), " 🐍")
    change(client, PY_URI, 3, (3, 11), (3, 11), "mes")
    second = await inline(client, PY_URI, 3, 14)
    assert isinstance(second, list)
    menu = await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=PY_URI),
        position=types.Position(line=3, character=14)))
    assert isinstance(menu, types.CompletionList) and menu.is_incomplete
    for item in menu.items:
        assert item.text_edit is not None and item.text_edit.new_text.startswith("mes")


async def test_cancelled_request_is_answered_promptly(client: LanguageClient) -> None:
    open_doc(client, PY_URI, PY_TEXT)
    future = asyncio.ensure_future(client.protocol.send_request_async(
        types.TEXT_DOCUMENT_INLINE_COMPLETION, inline_params(PY_URI, 3, 11), msg_id="to-cancel"))
    await asyncio.sleep(0.005)  # sent, and inside the server's debounce or generation
    started = time.perf_counter()
    client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="to-cancel"))
    with pytest.raises(JsonRpcException):
        await asyncio.wait_for(future, timeout=10)
    assert time.perf_counter() - started < 10
    # The server still answers afterwards.
    assert len(await inline(client, PY_URI, 3, 11)) <= 1


async def test_newer_request_supersedes_older(client: LanguageClient) -> None:
    open_doc(client, PY_URI, PY_TEXT)
    older = client.text_document_inline_completion_async(inline_params(PY_URI, 3, 11))
    newer = client.text_document_inline_completion_async(inline_params(PY_URI, 3, 11))
    old_result, new_result = await asyncio.gather(older, newer)
    assert isinstance(old_result, types.InlineCompletionList) and len(old_result.items) == 0
    assert isinstance(new_result, types.InlineCompletionList) and len(new_result.items) == 1


async def test_bad_inputs_leave_the_server_answering(client: LanguageClient) -> None:
    open_doc(client, PY_URI, PY_TEXT)
    # A line outside the document: an error response, not a crash.
    with pytest.raises(JsonRpcException, match="position outside"):
        await inline(client, PY_URI, 999, 0)
    # A character past the end of a line clamps to the line end (LSP rule).
    assert isinstance(await inline(client, PY_URI, 0, 999), list)
    # A document that was never opened: empty.
    assert await inline(client, "file:///nowhere.py", 0, 0) == []
    # Parameters that do not match the schema: an InvalidParams error response.
    answer: concurrent.futures.Future[Any] = concurrent.futures.Future()
    client.protocol._request_futures["malformed"] = answer
    send_raw(client, json.dumps({
        "jsonrpc": "2.0", "id": "malformed", "method": types.TEXT_DOCUMENT_INLINE_COMPLETION,
        "params": {"textDocument": 5, "position": "x"}}).encode())
    with pytest.raises(JsonRpcException, match="invalid parameters"):
        await asyncio.wait_for(asyncio.wrap_future(answer), timeout=10)
    # Bytes that are not JSON at all.
    send_raw(client, b"{not json")
    # NUL bytes, lone surrogates, a multi-megabyte file.
    open_doc(client, "file:///w/nul.py", "x = 1\0\0\ny = ")
    assert isinstance(await inline(client, "file:///w/nul.py", 1, 4), list)
    open_doc(client, "file:///w/sur.py", "s = '\ud800'\nt = ")
    assert isinstance(await inline(client, "file:///w/sur.py", 1, 4), list)
    big = "x = 1\n" * 600_000
    open_doc(client, "file:///w/big.py", big)
    assert isinstance(await inline(client, "file:///w/big.py", 300_000, 5), list)
    # An edit whose range lies outside the document: a warning, and no completions for it.
    change(client, PY_URI, 2, (50, 0), (51, 0), "oops")
    assert await inline(client, PY_URI, 3, 11) == []
    # And the server still serves a healthy document.
    open_doc(client, "file:///w/ok.py", PY_TEXT)
    assert isinstance(await inline(client, "file:///w/ok.py", 3, 11), list)


async def test_unknown_language_still_completes(client: LanguageClient) -> None:
    open_doc(client, "file:///w/notes.txt", "The quick brown fox jumps over the ", "plaintext")
    result = await inline(client, "file:///w/notes.txt", 0, 35)
    assert len(result) <= 1


async def test_requests_before_the_model_is_ready_return_empty(
    server_env: dict[str, str],
) -> None:
    lsp = await start_client(None, "visual-studio-code", server_env)
    try:
        open_doc(lsp, PY_URI, PY_TEXT)
        started = time.perf_counter()
        assert await inline(lsp, PY_URI, 3, 11) == []
        assert time.perf_counter() - started < 5
    finally:
        await lsp.shutdown_session()
        await lsp.stop()


async def test_unloadable_model_reports_one_clear_error_and_keeps_serving(
    server_env: dict[str, str],
) -> None:
    lsp = await start_client("/no/such/model", "neovim", server_env)
    try:
        last = lsp.kodama_statuses[-1]  # type: ignore[attr-defined]
        assert last["state"] == "error" and "/no/such/model" in last["message"]
        await asyncio.sleep(0.1)
        assert any("/no/such/model" in m.message for m in lsp.messages)
        open_doc(lsp, PY_URI, PY_TEXT)
        assert await inline(lsp, PY_URI, 3, 11) == []
    finally:
        await lsp.shutdown_session()
        await lsp.stop()


async def test_invalid_settings_are_reported_and_defaults_kept(
    tiny_model_dir: Any, server_env: dict[str, str],
) -> None:
    options = {"completion": {"debounceMs": "soon"}, "bogus": 1}
    lsp = await start_client(str(tiny_model_dir), "visual-studio-code", server_env, options)
    try:
        await asyncio.sleep(0.1)
        text = json.dumps([m.message for m in lsp.messages])
        assert "debounce_ms" in text or "debounceMs" in text
        assert "bogus" in text
    finally:
        await lsp.shutdown_session()
        await lsp.stop()


async def test_typing_the_suggestion_is_served_without_the_model(
    identifier_model_dir: Any, server_env: dict[str, str],
) -> None:
    # A long debounce: only type-ahead can answer well within it.
    options = {"completion": {"debounceMs": 3000}}
    lsp = await start_client(str(identifier_model_dir), "visual-studio-code", server_env, options)
    try:
        open_doc(lsp, PY_URI, PY_TEXT)
        [first] = await inline(lsp, PY_URI, 3, 11)
        change(lsp, PY_URI, 2, (3, 11), (3, 11), first[:2])
        started = time.perf_counter()
        rest = await inline(lsp, PY_URI, 3, 13)
        assert time.perf_counter() - started < 1.5
        assert rest == [first[2:]]
    finally:
        await lsp.shutdown_session()
        await lsp.stop()
