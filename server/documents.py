"""Document lifecycle: didOpen / didChange (incremental) / didClose into Kodama's one store.

Each open document is a ``kodama.syntax.document.SyntaxDocument`` (text + tree-sitter tree,
updated incrementally). A change that does not apply (a range outside the document) means the
client and server disagree about the text: the document is marked out of sync, the user is
told, and no completion is offered for it until the editor sends the whole text again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from lsprotocol import types

from kodama.syntax.document import SyntaxDocument, TextChange
from kodama.syntax.languages import detect
from kodama.syntax.positions import PositionError

if TYPE_CHECKING:
    from kodama.server.app import KodamaServer

log = logging.getLogger(__name__)


class DocumentStore:
    """Open documents by URI, plus the URIs whose text can no longer be trusted."""

    def __init__(self) -> None:
        """An empty store."""
        self.docs: dict[str, SyntaxDocument] = {}
        self.out_of_sync: set[str] = set()
        self.on_close: list[Callable[[str], None]] = []
        self.on_open: list[Callable[[SyntaxDocument], None]] = []
        self.on_change: list[Callable[[SyntaxDocument, list[TextChange]], None]] = []
        """Called after changes applied (not for changes that failed)."""

    def get(self, uri: str) -> SyntaxDocument | None:
        """The open, in-sync document for ``uri``, or None."""
        if uri in self.out_of_sync:
            return None
        return self.docs.get(uri)

    def open(self, uri: str, text: str, language_id: str | None, version: int) -> SyntaxDocument:
        """Open (or reopen) a document."""
        doc = SyntaxDocument(uri, text, detect(uri, language_id), version)
        self.docs[uri] = doc
        self.out_of_sync.discard(uri)
        for callback in self.on_open:
            callback(doc)
        return doc

    def change(self, uri: str, changes: list[TextChange], version: int) -> None:
        """Apply an editor's changes; raises KeyError / PositionError when they do not apply."""
        doc = self.docs[uri]
        try:
            doc.apply_changes(changes, version)
        except PositionError:
            self.out_of_sync.add(uri)
            raise
        if any(c.range is None for c in changes):
            self.out_of_sync.discard(uri)
        for callback in self.on_change:
            callback(doc, changes)

    def close(self, uri: str) -> None:
        """Forget a document."""
        self.docs.pop(uri, None)
        self.out_of_sync.discard(uri)
        for callback in self.on_close:
            callback(uri)


def to_text_change(change: types.TextDocumentContentChangeEvent) -> TextChange:
    """An LSP content change as a syntax-layer ``TextChange``."""
    if isinstance(change, types.TextDocumentContentChangePartial):
        r = change.range
        return TextChange(
            ((r.start.line, r.start.character), (r.end.line, r.end.character)), change.text
        )
    return TextChange(None, change.text)


def register(server: KodamaServer) -> None:
    """Install the document lifecycle handlers on ``server``."""
    store = server.documents

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(params: types.DidOpenTextDocumentParams) -> None:
        item = params.text_document
        doc = store.open(item.uri, item.text, item.language_id, item.version)
        log.debug("opened %s (%s, %d chars)", item.uri,
                  doc.language.id if doc.language else "unknown language", len(doc.text))

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        if uri not in store.docs:
            log.warning("change for a document that is not open: %s", uri)
            return
        changes = [to_text_change(c) for c in params.content_changes]
        try:
            store.change(uri, changes, params.text_document.version)
        except PositionError as exc:
            message = (f"Kodama lost track of {uri} ({exc}); completions for it are paused "
                       "until the file is closed and reopened.")
            log.error(message)
            server.window_show_message(
                types.ShowMessageParams(type=types.MessageType.Warning, message=message)
            )

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(params: types.DidCloseTextDocumentParams) -> None:
        store.close(params.text_document.uri)
