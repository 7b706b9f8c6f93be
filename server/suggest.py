"""The shared path of both completion features: document + position → completion text.

Handles everything around the model call that the LSP features have in common: debounce,
latest-wins, "model not ready yet", unknown documents, invalid positions, cancellation, and
one feature's failure never escaping as a crash.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from kodama.model.completion import complete
from kodama.model.errors import KodamaError
from kodama.server.setup import settings_from
from kodama.syntax.document import SyntaxDocument
from kodama.syntax.positions import PositionError

if TYPE_CHECKING:
    from kodama.server.app import KodamaServer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Suggestion:
    """A completion for a position of a document version."""

    doc: SyntaxDocument
    offset: int
    version: int
    text: str
    source: str
    """``model`` (generated now) or ``typeahead`` (the rest of an earlier suggestion)."""


def locate(server: KodamaServer, uri: str, position: types.Position
            ) -> tuple[SyntaxDocument, int] | None:
    """The open document and the code-point offset of ``position``; None if not open."""
    doc = server.documents.get(uri)
    if doc is None:
        log.debug("completion for a document that is not open (or out of sync): %s", uri)
        return None
    try:
        return doc, doc.offset_at(position.line, position.character)
    except PositionError as exc:
        raise JsonRpcInvalidParams(f"position outside {uri}: {exc}") from None


async def suggest(
    server: KodamaServer, uri: str, position: types.Position
) -> Suggestion | None:
    """The completion to show at ``position`` of ``uri``, or None when there is nothing to show.

    Raises ``JsonRpcInvalidParams`` for a position outside the document (the client gets an
    error response); every other problem is logged and answered with None.
    """
    config = server.config.completion
    if not config.enabled:
        return None
    number, cancel = server.scheduler.ticket(uri)
    try:
        located = locate(server, uri, position)
        if located is None:
            return None
        doc, offset = located
        version = doc.version
        ahead = server.typeahead.lookup(uri, doc.text, offset)
        if ahead is not None:
            return Suggestion(doc, offset, version, ahead, "typeahead")
        await asyncio.sleep(server.scheduler.debounce_ms(uri, config.debounce_ms) / 1000)
        if not server.scheduler.is_latest(uri, number) or doc.version != version:
            return None
        engine = server.model.engine
        if engine is None:
            return None
        ctx = server.workspace_index.completion_context(doc, offset)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("completion snippets for %s: %s", uri,
                      json.dumps([[snippet.path, snippet.kind] for snippet in ctx.snippets]))
        settings = settings_from(config, server.config.context)
        completion = await server.model.run(
            lambda: complete(ctx, engine, settings, cancel=cancel, cache_key=uri), urgent=True
        )
    except asyncio.CancelledError:
        cancel.set()
        raise
    except JsonRpcInvalidParams:
        raise
    except KodamaError as exc:  # e.g. the remote server is down: the status already says so
        log.warning("no completion at %s:%d:%d: %s", uri, position.line, position.character, exc)
        return None
    except Exception:
        log.exception("completion failed at %s:%d:%d", uri, position.line, position.character)
        return None
    gen = completion.generation
    log.info(
        "completion %s: %d tokens (%d reused) prefill %.0f ms, %d new (%d drafted) in %.0f ms"
        " (%s)%s", completion.mode, gen.prompt_tokens, gen.reused_tokens, gen.prefill_ms,
        gen.tokens, gen.draft_accepted, gen.decode_ms, gen.reason,
        "" if completion.text else f"; nothing to offer from {completion.raw!r}",
    )
    if gen.reason == "cancelled" or not completion.text:
        return None
    server.typeahead.remember(uri, ctx.prefix, ctx.suffix, completion.text)
    return Suggestion(doc, offset, version, completion.text, "model")
