"""``textDocument/completion``: the same suggestion as one item of the completion menu.

For editors (or setups) without inline ghost text. The item replaces the word being typed with
that word plus the completion, so menu filtering by the typed word keeps it visible.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.capabilities import get_capability

from kodama.server.suggest import suggest

if TYPE_CHECKING:
    from kodama.server.app import KodamaServer

_WORD_TAIL = re.compile(r"[\w$]*\Z")
LABEL_CHARS = 60


def label_for(text: str) -> str:
    """A one-line menu label for a (possibly multi-line) completion."""
    first = text.strip("\n").split("\n", 1)[0].strip()
    more = "…" if "\n" in text.strip("\n") or len(first) > LABEL_CHARS else ""
    return first[:LABEL_CHARS] + more


def documentation(server: KodamaServer, code: str) -> types.MarkupContent | None:
    """The full completion for the item's detail pane, in a format the client renders
    (none for clients that declare no documentation format)."""
    formats = get_capability(
        server.client_capabilities,
        "text_document.completion.completion_item.documentation_format",
        [],
    )
    if types.MarkupKind.Markdown in formats:
        return types.MarkupContent(kind=types.MarkupKind.Markdown, value=f"```\n{code}\n```")
    if types.MarkupKind.PlainText in formats:
        return types.MarkupContent(kind=types.MarkupKind.PlainText, value=code)
    return None


def register(server: KodamaServer) -> None:
    """Install the completion handler."""

    @server.feature(
        types.TEXT_DOCUMENT_COMPLETION,
        types.CompletionOptions(trigger_characters=[".", "(", " "], resolve_provider=False),
    )
    async def completion(params: types.CompletionParams) -> types.CompletionList:
        found = await suggest(server, params.text_document.uri, params.position)
        if found is None:
            return types.CompletionList(is_incomplete=True, items=[])
        doc, offset, text = found.doc, found.offset, found.text
        line_start = doc.text.rfind("\n", 0, offset) + 1
        match = _WORD_TAIL.search(doc.text, line_start, offset)
        word = match.group(0) if match else ""
        start_line, start_char = doc.position_at(offset - len(word))
        edit_range = types.Range(
            start=types.Position(line=start_line, character=start_char), end=params.position
        )
        item = types.CompletionItem(
            label=label_for(word + text),
            kind=types.CompletionItemKind.Snippet,
            detail="Kodama",
            documentation=documentation(server, word + text),
            filter_text=word + text,
            text_edit=types.TextEdit(range=edit_range, new_text=word + text),
            insert_text_format=types.InsertTextFormat.PlainText,
            sort_text="0",
            preselect=True,
        )
        return types.CompletionList(is_incomplete=True, items=[item])
