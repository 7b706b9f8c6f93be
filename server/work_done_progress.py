"""Progress bars in the editor: server-initiated ``$/progress`` that any thread may report to.

pygls sends messages from its event loop; work such as model loading runs in a worker thread,
so every event is queued to the loop with ``call_soon_threadsafe`` and a small task sends them
in order, after the client has acknowledged ``window/workDoneProgress/create`` as the spec
requires. Clients that did not announce ``window.workDoneProgress`` get no progress messages.
A bar made with a ``cancel`` event is cancellable: the editor's cancel button sets the event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import uuid
from typing import TYPE_CHECKING

from lsprotocol import types

if TYPE_CHECKING:
    from pygls.lsp.server import LanguageServer

log = logging.getLogger(__name__)

_Event = types.WorkDoneProgressBegin | types.WorkDoneProgressReport | types.WorkDoneProgressEnd


def client_supports_progress(server: LanguageServer) -> bool:
    """Whether the client accepts server-initiated work-done progress."""
    window = server.client_capabilities.window
    return bool(window and window.work_done_progress)


class WorkDoneProgress:
    """One progress bar in the editor: ``begin`` once, ``report`` any number of times, ``end``."""

    def __init__(self, server: LanguageServer, loop: asyncio.AbstractEventLoop, *,
                 cancel: threading.Event | None = None) -> None:
        """Bind to ``server``; ``loop`` is the server's event loop; with ``cancel`` the bar has a
        cancel button that sets it."""
        self._server = server
        self._cancel = cancel
        self._loop = loop
        self._token = f"kodama-{uuid.uuid4()}"
        self._enabled = client_supports_progress(server)
        self._queue: asyncio.Queue[_Event] | None = None
        self._last: tuple[str, int | None] | None = None

    def _put(self, event: _Event) -> None:
        if not self._enabled:
            return

        def enqueue() -> None:
            if self._queue is None:
                self._queue = asyncio.Queue()
                self._loop.create_task(self._pump(self._queue))
            self._queue.put_nowait(event)

        # A closed loop means the server is shutting down: nothing left to show.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(enqueue)

    async def _pump(self, queue: asyncio.Queue[_Event]) -> None:
        progress = self._server.work_done_progress
        try:
            await progress.create_async(self._token)
        except Exception as exc:  # the client refused the token: carry on without a bar
            log.info("client refused a progress token: %s", exc)
            return
        cancel = self._cancel
        future = progress.tokens.get(self._token)
        if cancel is not None and future is not None:
            future.add_done_callback(lambda done: cancel.set() if done.cancelled() else None)
        while True:
            event = await queue.get()
            if isinstance(event, types.WorkDoneProgressBegin):
                progress.begin(self._token, event)
            elif isinstance(event, types.WorkDoneProgressReport):
                progress.report(self._token, event)
            else:
                progress.end(self._token, event)
                return

    def begin(self, title: str, message: str | None = None) -> None:
        """Show the bar."""
        self._put(types.WorkDoneProgressBegin(title=title, message=message, percentage=0,
                                              cancellable=self._cancel is not None))

    def report(self, message: str, fraction: float | None = None) -> None:
        """Update the bar (``fraction`` in 0..1; repeated identical reports are skipped)."""
        percentage = None if fraction is None else max(0, min(100, int(fraction * 100)))
        if self._last == (message, percentage):
            return
        self._last = (message, percentage)
        self._put(types.WorkDoneProgressReport(message=message, percentage=percentage))

    def end(self, message: str) -> None:
        """Close the bar."""
        self._put(types.WorkDoneProgressEnd(message=message))
