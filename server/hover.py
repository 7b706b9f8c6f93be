"""``textDocument/hover``: an explanation of the function, method or class under the pointer.

Hover never holds the editor for a whole generation. Resting on a definition's name or
signature asks for its explanation: a cached one (keyed by the code and context the model
sees) answers at once; otherwise the generation starts in the background (with a cancellable
``$/progress`` bar) and the hover waits at most ``tasks.hoverWaitMs``. If it is not done by
then, the hover says so and shows what is written so far; the next hover shows the finished
explanation. Hovering another definition supersedes (cancels) a hover-started explanation that
is still being written, and so does cancelling the hover request while it waits.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from lsprotocol import types

from kodama.model.tasks.answers import tidy_markdown
from kodama.model.tasks.subject import Subject
from kodama.server.generations import Explanation
from kodama.server.suggest import locate

if TYPE_CHECKING:
    from kodama.server.app import KodamaServer


def on_signature(subject: Subject, row: int) -> bool:
    """Whether ``row`` is within the definition's decorators, name and signature lines."""
    target = subject.target
    first = subject.text.encode("utf-8")[:target.start_byte].count(b"\n")
    last = target.line + target.signature.count("\n")
    return first <= row <= max(last, target.line)


def waiting_markdown(entry: Explanation) -> str:
    """What a hover shows while the explanation is being written."""
    subject = entry.subject
    lines = [f"**{subject.kind} `{subject.name}`** · *Kodama*", "",
             "*Writing an explanation… hover again in a moment.*"]
    if entry.partial.strip():
        lines += ["", tidy_markdown(entry.partial) + " …"]
    return "\n".join(lines)


def register(server: KodamaServer) -> None:
    """Install the hover handler."""

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    async def hover(params: types.HoverParams) -> types.Hover | None:
        if not server.config.tasks.hover:
            return None
        located = locate(server, params.text_document.uri, params.position)
        if located is None:
            return None
        doc, offset = located
        subject = server.workspace_index.definition_at(doc, offset)
        if subject is None or not on_signature(subject, params.position.line):
            return None
        if server.model.engine is None:  # no model now (a remote server down): cache only
            known = server.explanations.finished(subject)
            return None if known is None else types.Hover(contents=types.MarkupContent(
                kind=types.MarkupKind.Markdown, value=known.markdown))
        entry = server.explanations.request(subject, "hover")
        try:
            done = await server.explanations.wait(
                entry, server.config.tasks.hover_wait_ms / 1000)
        except asyncio.CancelledError:
            if entry.origin == "hover":
                entry.cancel.set()  # the pointer moved on before anything was shown
            raise
        if done and entry.state == "failed":
            text = f"*Kodama could not explain `{subject.name}`: {entry.error}*"
        else:
            text = entry.markdown if done else waiting_markdown(entry)
        return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown,
                                                        value=text))
