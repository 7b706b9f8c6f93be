"""A scripted editor: starts ``kodama serve`` and drives it over LSP like an editor would.

Used by ``kodama demo`` and by the latency benchmark, so both measure the real server through
the real protocol (stdio, JSON-RPC, incremental sync, UTF-16 positions, $/progress).
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from kodama.server.config import KodamaConfig
from kodama.server.protocol import STATUS_NOTIFICATION, status_from


def server_command(config: KodamaConfig, log_level: str = "warning") -> list[str]:
    """The command line that starts the server with this configuration."""
    cmd = [sys.executable, "-m", "kodama.server", "serve", "--model", config.model.name,
           "--dtype", config.model.dtype, "--quantization", config.model.quantization,
           "--log-level", log_level]
    if config.model.threads:
        cmd += ["--threads", str(config.model.threads)]
    if config.remote.url:
        cmd += ["--remote", config.remote.url]
    if config.remote.model:
        cmd += ["--remote-model", config.remote.model]
    return cmd


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (LSP's default position unit)."""
    return len(text.encode("utf-16-le")) // 2


class EditorSession:
    """One server process and the documents this session has open in it."""

    def __init__(self, config: KodamaConfig, *, root: Path | None = None,
                 options: dict[str, Any] | None = None,
                 on_progress: Callable[[str, int | None], None] | None = None,
                 on_message: Callable[[str], None] | None = None) -> None:
        """Prepare (nothing starts until ``start``)."""
        self.config = config
        self.root = root if root is not None else Path.cwd()
        """The workspace folder the session opens (the server indexes it)."""
        self.options = options or {}
        self.client = LanguageClient("kodama-editor-session", "1")
        self.versions: dict[str, int] = {}
        self.stderr_tail: list[str] = []
        self.pid: int | None = None
        self._ready: asyncio.Future[tuple[str, str]] | None = None
        self._on_progress = on_progress
        self._on_message = on_message
        self._drain: asyncio.Task[None] | None = None
        self.initialize_ms = 0.0
        self.result: types.InitializeResult | None = None

    async def start(self) -> None:
        """Start the server and initialise it (does not wait for the model)."""
        self._ready = asyncio.get_running_loop().create_future()
        client = self.client

        @client.feature(types.WINDOW_WORK_DONE_PROGRESS_CREATE)
        def create_progress(params: types.WorkDoneProgressCreateParams) -> None:
            return None

        @client.feature(types.PROGRESS)
        def on_progress(params: types.ProgressParams) -> None:
            value: Any = params.value if isinstance(params.value, dict) else {}
            if self._on_progress is not None:
                message = value.get("message") or value.get("title", "")
                self._on_progress(str(message), value.get("percentage"))

        @client.feature(STATUS_NOTIFICATION)
        def on_status(params: Any) -> None:
            status = status_from(params)
            ready = self._ready
            if ready is not None and status.get("state") in ("ready", "error", "disabled") \
                    and not ready.done():
                ready.set_result((str(status["state"]), str(status.get("message", ""))))

        @client.feature(types.WINDOW_SHOW_MESSAGE)
        def on_message(params: types.ShowMessageParams) -> None:
            if self._on_message is not None:
                self._on_message(params.message)

        await client.start_io(*server_command(self.config))
        proc = client._server
        assert proc is not None and proc.stderr is not None
        self.pid = proc.pid
        self._drain = asyncio.create_task(self._drain_stderr(proc.stderr))
        started = time.perf_counter()
        self.result = await client.initialize_async(types.InitializeParams(
            capabilities=types.ClientCapabilities(
                window=types.WindowClientCapabilities(work_done_progress=True),
                text_document=types.TextDocumentClientCapabilities(
                    inline_completion=types.InlineCompletionClientCapabilities()),
            ),
            process_id=None, root_uri=self.root.as_uri(),
            initialization_options=self.options,
        ))
        client.initialized(types.InitializedParams())
        self.initialize_ms = (time.perf_counter() - started) * 1000

    async def _drain_stderr(self, stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            self.stderr_tail.append(line.decode("utf-8", "replace").rstrip())
            del self.stderr_tail[:-200]

    async def wait_ready(self, timeout: float = 900) -> tuple[str, str]:
        """Wait for the model: ("ready" | "error" | "disabled", message)."""
        assert self._ready is not None
        return await asyncio.wait_for(self._ready, timeout)

    def open(self, uri: str, text: str, language_id: str) -> None:
        """``textDocument/didOpen``."""
        self.versions[uri] = 1
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id=language_id, version=1, text=text)))

    def insert(self, uri: str, line: int, character: int, text: str) -> None:
        """An incremental ``didChange`` inserting ``text`` at (line, UTF-16 character)."""
        self.versions[uri] += 1
        at = types.Position(line=line, character=character)
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(
                uri=uri, version=self.versions[uri]),
            content_changes=[types.TextDocumentContentChangePartial(
                range=types.Range(start=at, end=at), text=text)]))

    def close(self, uri: str) -> None:
        """``textDocument/didClose``."""
        self.versions.pop(uri, None)
        self.client.text_document_did_close(types.DidCloseTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=uri)))

    def request_inline(self, uri: str, line: int, character: int) -> Awaitable[Any]:
        """Send ``textDocument/inlineCompletion``; awaiting gives the raw result."""
        return self.client.text_document_inline_completion_async(types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character),
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Automatic),
        ))

    async def inline(self, uri: str, line: int, character: int) -> tuple[str, float]:
        """Ask for an inline completion: (text or '', milliseconds until the answer)."""
        started = time.perf_counter()
        answer = await self.request_inline(uri, line, character)
        elapsed = (time.perf_counter() - started) * 1000
        items = answer.items if isinstance(answer, types.InlineCompletionList) else (answer or [])
        if not items:
            return "", elapsed
        text = items[0].insert_text
        return (text if isinstance(text, str) else text.value), elapsed

    def memory_kb(self) -> dict[str, int]:
        """The server's resident memory now and at its peak (kB, from /proc)."""
        out: dict[str, int] = {}
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith(("VmRSS:", "VmHWM:")):
                    out[line.split(":")[0]] = int(line.split()[1])
        except OSError:
            pass
        return out

    async def stop(self) -> None:
        """Shut the server down politely."""
        try:
            await asyncio.wait_for(self.client.shutdown_async(None), 10)
            self.client.exit(None)
        except Exception:
            pass
        await self.client.stop()
        if self._drain is not None:
            self._drain.cancel()
