"""The workspace index inside the server: built in the background, kept current, queried cheaply.

On ``initialized`` the index of the workspace root (the first workspace folder, else
``rootUri``) is loaded from its cache and brought up to date on a thread of its own — never the
event loop, never the model's worker — with ``$/progress`` in the editor. Opened and changed
documents are re-indexed there too, a moment after the typing stops; closed and (when the
client sends them) watched files are read again from the disk.

:class:`LiveWorkspaceIndex` is the server's :class:`~kodama.server.setup.RepositoryView`:
completions and tasks ask it exactly as a command asks the view of its file's project, with
the editor's recently edited documents added; it never raises.

Under memory pressure (the model host's watcher, ``model.memory_budget_mb``) it lets go of
everything it holds: the index and its snippet caches are dropped, repository context is off
until the server restarts, and the user is told once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types

from kodama.model.context import OpenDocument, WorkspaceIndex
from kodama.server.setup import RepositoryView, path_of_uri
from kodama.server.work_done_progress import WorkDoneProgress
from kodama.syntax.document import SyntaxDocument, TextChange

if TYPE_CHECKING:
    from kodama.server.app import KodamaServer

log = logging.getLogger(__name__)

QUIET_S = 0.5
"""Re-index a changed document once it has not changed for this long."""
SAVE_EVERY_S = 60.0
"""Write the index cache at most this often while documents change."""

_DISK = object()
"""Pending marker: read the file from the disk again."""
_GONE = object()
"""Pending marker: the file was deleted."""


def root_of(params: types.InitializeParams) -> Path | None:
    """The workspace root the client names: first workspace folder, ``rootUri``, ``rootPath``."""
    if params.workspace_folders:
        for folder in params.workspace_folders:
            path = path_of_uri(folder.uri)
            if path is not None:
                return path
    if params.root_uri:
        return path_of_uri(params.root_uri)
    if params.root_path:
        return Path(params.root_path)
    return None


class LiveWorkspaceIndex(RepositoryView):
    """The index of the server's workspace, kept current (see the module docstring)."""

    def __init__(self, server: KodamaServer) -> None:
        """Nothing is indexed before :meth:`start`."""
        super().__init__()
        self.server = server
        self.indexed = threading.Event()
        """Set once the first build has finished (or failed)."""
        self._edits: dict[str, tuple[int, float]] = {}
        """uri → (line of the latest edit, when)."""
        self._pending: dict[str, object] = {}
        self._changed_at = 0.0
        self._wake = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._dropped = False
        server.model.on_memory_pressure.append(self.under_pressure)
        store = server.documents
        store.on_open.append(self._opened)
        store.on_change.append(self._changed)
        store.on_close.append(self._closed)

    # ---------------------------------------------------------- lifecycle
    def set_root(self, params: types.InitializeParams) -> None:
        """Remember the workspace root from ``initialize``."""
        root = root_of(params)
        if root is not None and root.is_dir():
            self.root = root.resolve()
        elif root is not None:
            log.info("workspace root %s is not a folder: no repository context", root)

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Build or load the index in the background (with ``$/progress``)."""
        self._loop = loop
        if self._thread is not None:
            self.indexed.set()
            return
        index = self.open_index(self.server.config.context)
        if index is None or self.root is None:
            self.indexed.set()
            return
        progress = WorkDoneProgress(self.server, loop)
        progress.begin("Kodama", f"indexing {self.root.name or self.root}")
        self._thread = threading.Thread(
            target=self._run, args=(index, progress), name="kodama-index", daemon=True
        )
        self._thread.start()

    def shutdown(self) -> None:
        """Stop the background thread (the cache is saved on the way out)."""
        self._stop.set()
        with self._wake:
            self._wake.notify_all()

    def under_pressure(self, message: str) -> None:
        """Memory is short: repository context off, the index and its caches dropped (the
        background thread stops), and ``message`` shown to the user."""
        self.index = None
        self.provider = None
        self._dropped = True  # not even saved: writing the cache would take memory too
        self.shutdown()
        with self._wake:
            self._pending.clear()
        self._edits.clear()
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop is closing: nothing to show
                loop.call_soon_threadsafe(self.server.show, types.MessageType.Warning, message)

    def _run(self, index: WorkspaceIndex, progress: WorkDoneProgress) -> None:
        try:
            stats = index.build(progress=progress.report, cancel=self._stop)
            progress.end(f"indexed {stats.summary()}")
        except Exception:
            log.exception("indexing %s failed", self.root)
            progress.end("indexing failed (see the log)")
            return
        finally:
            self.indexed.set()
        last_save = time.monotonic()
        while not self._stop.is_set():
            with self._wake:
                while not self._pending and not self._stop.is_set():
                    self._wake.wait(SAVE_EVERY_S)
                    if time.monotonic() - last_save >= SAVE_EVERY_S:
                        break
                quiet = QUIET_S - (time.monotonic() - self._changed_at)
            if quiet > 0 and not self._stop.is_set():
                self._stop.wait(quiet)
                continue
            with self._wake:
                pending, self._pending = self._pending, {}
            for path, what in pending.items():
                try:
                    if what is _GONE:
                        index.remove(path)
                    elif what is _DISK:
                        index.refresh(path)
                    elif isinstance(what, str):
                        index.update(path, what)
                except Exception:
                    log.exception("re-indexing %s failed", path)
            if self._dropped:
                return
            if time.monotonic() - last_save >= SAVE_EVERY_S or self._stop.is_set():
                index.save()
                last_save = time.monotonic()
        if not self._dropped:
            index.save()

    # ------------------------------------------------------------- events
    def _queue(self, uri: str, what: object) -> None:
        rel = self.relative(uri)
        if rel is None or self.index is None:
            return
        with self._wake:
            self._pending[rel] = what
            self._changed_at = time.monotonic()
            self._wake.notify_all()

    def _opened(self, doc: SyntaxDocument) -> None:
        self._queue(doc.uri, doc.text)

    def _changed(self, doc: SyntaxDocument, changes: list[TextChange]) -> None:
        line = doc.text.count("\n")
        for change in changes:
            if change.range is not None:
                line = change.range[0][0]
        self._edits[doc.uri] = (line, time.monotonic())
        self._queue(doc.uri, doc.text)

    def _closed(self, uri: str) -> None:
        self._edits.pop(uri, None)
        rel = self.relative(uri)
        if rel is not None and self.provider is not None:
            self.provider.forget(rel)
        self._queue(uri, _DISK)

    def watched_files_changed(self, params: types.DidChangeWatchedFilesParams) -> None:
        """Re-read created / changed files, drop deleted ones (open documents keep theirs)."""
        for event in params.changes:
            if event.uri in self.server.documents.docs:
                continue
            gone = event.type == types.FileChangeType.Deleted
            self._queue(event.uri, _GONE if gone else _DISK)

    # ---------------------------------------------------------- completion
    def open_documents(self, doc: SyntaxDocument) -> list[OpenDocument]:
        """The other open documents of the workspace that were edited, with where and when."""
        others: list[OpenDocument] = []
        for uri, (line, when) in self._edits.items():
            other = self.server.documents.docs.get(uri)
            other_rel = self.relative(uri)
            if uri != doc.uri and other is not None and other_rel is not None:
                others.append(OpenDocument(other_rel, other.text, line, when))
        return others


def register(server: KodamaServer) -> None:
    """Install the workspace handlers on ``server``."""

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(params: types.DidChangeWatchedFilesParams) -> None:
        server.workspace_index.watched_files_changed(params)
