"""The JSON-RPC wire layer: pygls' LSP protocol class with three deliberate changes.

(Kodama's own additions to what is said over it are in ``kodama.server.protocol``.)

1. Positions are always UTF-16 (every client supports it; ``kodama.syntax.positions`` converts).
2. A request whose parameters do not match the LSP schema gets an ``InvalidParams`` error
   response instead of silently never being answered (pygls only logs it).
3. Documents live in one store, Kodama's (``kodama.server.documents``): pygls' own workspace copy
   of every document is not kept.
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

log = logging.getLogger(__name__)


class _Unanswerable:
    """Stands in for a message that could not be read; the dispatcher ignores it."""

    jsonrpc = "invalid"


class KodamaWireProtocol(LanguageServerProtocol):
    """See the module docstring."""

    def structure_message(self, data: dict[str, Any]) -> Any:
        """Parse one message; answer malformed requests with an error instead of dropping them."""
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if "jsonrpc" in data and "id" in data and "method" in data:
                log.warning("malformed %r request answered with an error", data.get("method"))
                error = JsonRpcInvalidParams(
                    f"invalid parameters for {data.get('method')!r}: {exc.__cause__ or exc}"
                )
                self._send_response(data["id"], None, error.to_response_error())
            return _Unanswerable()

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(
        self, params: types.InitializeParams
    ) -> Generator[Any, Any, types.InitializeResult]:
        """Initialise as pygls does, but always negotiate UTF-16 positions."""
        general = params.capabilities.general
        if general is not None:
            general.position_encodings = None
        result: types.InitializeResult = yield from super().lsp_initialize(params)
        return result

    def _user_handler(self, method: str, params: Any) -> Generator[Any, Any, None]:
        if (handler := self.fm.features.get(method)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(
        self, params: types.DidOpenTextDocumentParams
    ) -> Generator[Any, Any, None]:
        """Hand the document to Kodama's store only."""
        yield from self._user_handler(types.TEXT_DOCUMENT_DID_OPEN, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(
        self, params: types.DidChangeTextDocumentParams
    ) -> Generator[Any, Any, None]:
        """Hand the change to Kodama's store only."""
        yield from self._user_handler(types.TEXT_DOCUMENT_DID_CHANGE, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(
        self, params: types.DidCloseTextDocumentParams
    ) -> Generator[Any, Any, None]:
        """Hand the close to Kodama's store only."""
        yield from self._user_handler(types.TEXT_DOCUMENT_DID_CLOSE, params)
