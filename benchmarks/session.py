"""The benchmark's editor side: drive the real ``kodama serve`` over LSP like an editor does.

Two measures, each with its own server process (they need different debounce settings):

- ``measure_waiting``: open a document with a line cut back to its indentation and ask for a
  completion (*first completion after open*, cold KV cache), then retype the line one character
  at a time, asking after each keystroke and *waiting* for each answer (*per keystroke*).
- ``measure_typing``: retype lines at a human pace (``common.typing_script``), sending
  ``textDocument/inlineCompletion`` after every keystroke as VS Code does and cancelling the
  previous request with ``$/cancelRequest`` when the next keystroke comes. A completion is
  *shown* when a non-empty answer arrives before the next keystroke.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types

from benchmarks.common import LANGUAGE_IDS, cut_line, pick_lines, typing_script
from kodama.server.commands.client import EditorSession, utf16_len
from kodama.server.config import KodamaConfig, merge


@dataclass(frozen=True)
class Target:
    """A line of a real file to retype."""

    path: Path
    row: int

    @property
    def language(self) -> str:
        """The LSP language id of the file."""
        return LANGUAGE_IDS.get(self.path.suffix, "plaintext")

    def uri(self, tag: str) -> str:
        """A document URI of its own per measure and line (so every open starts cold)."""
        return self.path.resolve().as_uri() + f"#{tag}-line{self.row}"


def read_source(path: Path) -> str:
    """A file's text as the benchmark uses it (the samples' █ cursor marks removed)."""
    return path.read_text("utf-8").replace("█", "")


def targets(files: list[Path], lines_per_file: int) -> list[Target]:
    """The lines to retype: ``lines_per_file`` code lines spread over each file."""
    return [Target(path, row) for path in files
            for row in pick_lines(read_source(path), lines_per_file)]


async def start_server(model: str, dtype: str, debounce_ms: int, threads: int | None, *,
                       quantization: str | None, root: Path, remote: str | None = None,
                       index_timeout_s: float = 300) -> tuple[EditorSession, float, str]:
    """A running server, ready and done indexing ``root``: (session, seconds until ready,
    the quantization it runs). ``remote``: generate on that OpenAI-compatible server."""
    errors: list[str] = []
    values: dict[str, Any] = {"model": {"name": model, "dtype": dtype}}
    if remote:
        values["remote"] = {"url": remote}
    if threads:
        values["model"]["threads"] = threads
    if quantization:
        values["model"]["quantization"] = quantization
    config = merge(KodamaConfig(), values, errors)
    if errors:
        raise SystemExit("; ".join(errors))
    indexed = asyncio.Event()

    def on_progress(message: str, _: int | None) -> None:
        if message.startswith(("indexed", "indexing failed")):
            indexed.set()

    session = EditorSession(config, root=root, on_progress=on_progress,
                            options={"completion": {"debounceMs": debounce_ms}})
    started = time.perf_counter()
    await session.start()
    state, message = await session.wait_ready()
    if state != "ready":
        await session.stop()
        raise SystemExit(f"model not ready: {message}")
    ready_s = time.perf_counter() - started
    if config.context.enabled:
        # Measure completions with the repository context the server gives once it is indexed.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(indexed.wait(), index_timeout_s)
    return session, ready_s, config.model.quantization


def _memory(session: EditorSession) -> dict[str, int]:
    memory = session.memory_kb()
    return {"rss_mb": round(memory.get("VmRSS", 0) / 1024),
            "peak_rss_mb": round(memory.get("VmHWM", 0) / 1024)}


async def measure_waiting(session: EditorSession, lines: list[Target],
                          keystrokes: int) -> dict[str, Any]:
    """First completion after open, then one completion per keystroke, waiting for each."""
    first: list[float] = []
    keystroke: list[float] = []
    got = 0
    for target in lines:
        opened, indent, code = cut_line(read_source(target.path), target.row)
        uri = target.uri("wait")
        session.open(uri, opened, target.language)
        column = utf16_len(indent)
        completion, elapsed = await session.inline(uri, target.row, column)
        first.append(elapsed)
        got += bool(completion)
        for char in code[: keystrokes] if keystrokes >= 0 else code:
            session.insert(uri, target.row, column, char)
            column += utf16_len(char)
            completion, elapsed = await session.inline(uri, target.row, column)
            keystroke.append(elapsed)
            got += bool(completion)
        session.close(uri)
    return {"first_after_open_ms": first, "keystroke_ms": keystroke, "completions": got,
            "requests": len(first) + len(keystroke), **_memory(session)}


@dataclass
class _Request:
    """One inline completion request in flight."""

    msg_id: str
    sent: float
    future: asyncio.Future[Any]
    arrived: float | None = None
    text: str = ""
    error: str | None = None


@dataclass
class TypingStats:
    """What happened to the requests of a typing session."""

    sent: int = 0
    cancelled: int = 0
    """Requests still unanswered when the next keystroke came: the editor cancels them (and
    would ignore a late answer)."""
    shown: list[float] = field(default_factory=list)
    """Latency (ms) of every completion shown: non-empty and in time."""
    shown_text: list[str] = field(default_factory=list)
    """Their texts (a newline = a multi-line completion)."""
    empty: int = 0
    """Answers in time but with nothing to show."""
    errors: int = 0
    """Error answers other than "request cancelled"."""


def _text_of(answer: Any) -> str:
    items = answer.items if isinstance(answer, types.InlineCompletionList) else (answer or [])
    if not items:
        return ""
    text = items[0].insert_text
    return text if isinstance(text, str) else text.value


class _Typist:
    """Sends requests with explicit ids, cancels stale ones, and records their fate."""

    def __init__(self, session: EditorSession) -> None:
        self.session = session
        self.stats = TypingStats()
        self._next = 0

    def request(self, uri: str, line: int, character: int) -> _Request:
        self._next += 1
        msg_id = f"bench-{self._next}"
        params = types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character),
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Automatic))
        sent = time.perf_counter()
        future = asyncio.ensure_future(self.session.client.protocol.send_request_async(
            types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id=msg_id))
        request = _Request(msg_id, sent, future)
        future.add_done_callback(lambda f: self._arrived(request, f))
        self.stats.sent += 1
        return request

    @staticmethod
    def _arrived(request: _Request, future: asyncio.Future[Any]) -> None:
        request.arrived = time.perf_counter()
        if future.cancelled():
            request.error = "cancelled locally"
        elif future.exception() is not None:
            request.error = repr(future.exception())
        else:
            request.text = _text_of(future.result())

    def settle(self, request: _Request, *, superseded: bool) -> None:
        """Account for ``request`` at the moment the editor moves on (or stops waiting).

        ``superseded``: a new keystroke came; a request still in flight is cancelled.
        """
        if request.arrived is None:
            self.stats.cancelled += 1
            if superseded:
                self.session.client.protocol.notify(
                    types.CANCEL_REQUEST, types.CancelParams(id=request.msg_id))
            return
        if request.error is not None:
            self.stats.errors += "cancel" not in request.error.lower()
        elif request.text:
            self.stats.shown.append((request.arrived - request.sent) * 1000)
            self.stats.shown_text.append(request.text)
        else:
            self.stats.empty += 1


async def measure_typing(session: EditorSession, lines: list[Target], keystrokes: int, *,
                         interval_ms: tuple[float, float], pause_ms: float, end_wait_ms: float,
                         seed: int) -> dict[str, Any]:
    """Retype ``lines`` at a human pace with editor-like requests and cancellations."""
    typist = _Typist(session)
    for index, target in enumerate(lines):
        opened, indent, code = cut_line(read_source(target.path), target.row)
        if keystrokes >= 0:
            code = code[:keystrokes]
        uri = target.uri("type")
        session.open(uri, opened, target.language)
        await asyncio.sleep(pause_ms / 1000)  # the user looks at the file before typing
        column = utf16_len(indent)
        pending: _Request | None = None
        for stroke in typing_script(code, seed=seed + index, interval_ms=interval_ms,
                                    pause_ms=pause_ms):
            if pending is not None:
                typist.settle(pending, superseded=True)
            session.insert(uri, target.row, column, stroke.char)
            column += utf16_len(stroke.char)
            pending = typist.request(uri, target.row, column)
            await asyncio.sleep(stroke.pause_ms / 1000)
        if pending is not None:
            # End of the line: the user waits a while for a suggestion, then moves on.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(pending.future), end_wait_ms / 1000)
            typist.settle(pending, superseded=True)
        session.close(uri)
    await asyncio.sleep(0.5)  # let cancelled requests' answers drain
    stats = typist.stats
    return {"shown_ms": stats.shown, "sent": stats.sent, "cancelled": stats.cancelled,
            "empty": stats.empty, "errors": stats.errors, "shown_text": stats.shown_text,
            **_memory(session)}
