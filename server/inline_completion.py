"""``textDocument/inlineCompletion`` (LSP 3.18): ghost text while typing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from kodama.server.suggest import suggest

if TYPE_CHECKING:
    from kodama.server.app import KodamaServer


def register(server: KodamaServer) -> None:
    """Install the inline completion handler (with its options object, so it is advertised)."""

    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(
        params: types.InlineCompletionParams,
    ) -> types.InlineCompletionList | None:
        found = await suggest(server, params.text_document.uri, params.position)
        if found is None:
            return types.InlineCompletionList(items=[])
        at = types.Range(start=params.position, end=params.position)
        item = types.InlineCompletionItem(insert_text=found.text, range=at)
        return types.InlineCompletionList(items=[item])
