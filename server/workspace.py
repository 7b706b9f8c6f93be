"""The workspace index inside the server: built in the background, kept current, queried cheaply.

On ``initialized`` the index of the workspace root (the first workspace folder, else
``rootUri``) is loaded from its cache and brought up to date on a thread of its own — never the
event loop, never the model's worker — with ``$/progress`` in the editor. Opened and changed
documents are re-indexed there too, a moment after the typing stops; closed and (when the
client sends them) watched files are read again from the disk.

``snippets_for(doc, offset)`` is what the completion path calls: it asks the
``RepositoryContext`` (which caches per place in the file) and never raises.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

from lsprotocol import types

from kodama.model.context import OpenDocument, RepositoryContext, WorkspaceIndex
from kodama.model.types import Snippet
from kodama.server.progress import Progress
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


def path_of_uri(uri: str) -> Path | None:
    """The local path of a ``file:`` URI, or None for other schemes."""
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    path = unquote(parsed.path)
    if os.name == "nt" and path.startswith("/") and len(path) > 2 and path[2] == ":":
        path = path[1:]
    return Path(path)


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


class Workspace:
    """The repository index of the server's workspace (see the module docstring)."""

    def __init__(self, server: KodamaServer) -> None:
        """Nothing is indexed before :meth:`start`."""
        self.server = server
        self.root: Path | None = None
        self.index: WorkspaceIndex | None = None
        self.provider: RepositoryContext | None = None
        self.indexed = threading.Event()
        """Set once the first build has finished (or failed)."""
        self._edits: dict[str, tuple[int, float]] = {}
        """uri → (line of the latest edit, when)."""
        self._paths: dict[str, str | None] = {}
        self._pending: dict[str, object] = {}
        self._changed_at = 0.0
        self._wake = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
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
        config = self.server.config.context
        if not config.enabled or self.root is None or self._thread is not None:
            self.indexed.set()
            return
        self.index = WorkspaceIndex(self.root, max_files=config.max_files)
        self.provider = RepositoryContext(self.index)
        progress = Progress(self.server, loop)
        progress.begin("Kodama", f"indexing {self.root.name or self.root}")
        self._thread = threading.Thread(
            target=self._run, args=(self.index, progress), name="kodama-index", daemon=True
        )
        self._thread.start()

    def shutdown(self) -> None:
        """Stop the background thread (the cache is saved on the way out)."""
        self._stop.set()
        with self._wake:
            self._wake.notify_all()

    def _run(self, index: WorkspaceIndex, progress: Progress) -> None:
        try:
            stats = index.build(
                progress=lambda done, total: progress.report(
                    f"indexing: {done}/{total} files", done / max(total, 1)),
                cancel=self._stop,
            )
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
            if time.monotonic() - last_save >= SAVE_EVERY_S or self._stop.is_set():
                index.save()
                last_save = time.monotonic()
        index.save()

    # ------------------------------------------------------------- events
    def relative(self, uri: str) -> str | None:
        """Repository-relative path (``/`` separators) of ``uri``; None outside the root."""
        if uri in self._paths:
            return self._paths[uri]
        rel: str | None = None
        path = path_of_uri(uri)
        if path is not None and self.root is not None:
            try:
                rel = Path(os.path.abspath(path)).relative_to(self.root).as_posix()
            except ValueError:
                rel = None
        self._paths[uri] = rel
        return rel

    def path_for(self, doc: SyntaxDocument) -> str | None:
        """The path shown to the model for ``doc``: repository-relative, else its file name."""
        rel = self.relative(doc.uri)
        if rel is not None:
            return rel
        path = path_of_uri(doc.uri)
        return path.name if path is not None and path.name else None

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
    def snippets_for(self, doc: SyntaxDocument, offset: int) -> tuple[Snippet, ...]:
        """Repository snippets for a completion at ``offset`` of ``doc`` (cheap; never raises).

        Empty when repository context is off, there is no workspace root, or ``doc`` lies
        outside it.
        """
        provider = self.provider
        if provider is None or not self.server.config.context.enabled:
            return ()
        try:
            rel = self.relative(doc.uri)
            if rel is None:
                return ()
            others: list[OpenDocument] = []
            for uri, (line, when) in self._edits.items():
                other = self.server.documents.docs.get(uri)
                other_rel = self.relative(uri)
                if uri != doc.uri and other is not None and other_rel is not None:
                    others.append(OpenDocument(other_rel, other.text, line, when))
            return provider.snippets(rel, doc.text, offset, others, tree=doc.tree,
                                     language=doc.language)
        except Exception:
            log.exception("repository context failed for %s", doc.uri)
            return ()


def register(server: KodamaServer) -> None:
    """Install the workspace handlers on ``server``."""

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(params: types.DidChangeWatchedFilesParams) -> None:
        server.repository.watched_files_changed(params)
