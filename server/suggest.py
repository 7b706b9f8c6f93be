"""The shared path of both completion features: document + position → completion text.

Handles everything around the model call that the LSP features have in common: debounce,
latest-wins, "model not ready yet", unknown documents, invalid positions, cancellation, and
one feature's failure never escaping as a crash.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from kodama.model.completion import Completion, CompletionSettings, complete, context_at
from kodama.model.prompt import Budget
from kodama.server.config import CompletionConfig
from kodama.syntax.document import SyntaxDocument
from kodama.syntax.positions import PositionError

if TYPE_CHECKING:
    from kodama.server.app import KodamaServer

log = logging.getLogger(__name__)


def settings_from(config: CompletionConfig) -> CompletionSettings:
    """The model layer's completion settings from the server configuration."""
    return CompletionSettings(
        budget=Budget(prefix_tokens=config.prefix_tokens, suffix_tokens=config.suffix_tokens),
        max_new_tokens_single=config.max_new_tokens_single,
        max_new_tokens_multi=config.max_new_tokens_multi,
        max_lines=config.max_lines,
    )


@dataclass(frozen=True)
class Suggestion:
    """A completion for a position of a document version."""

    doc: SyntaxDocument
    offset: int
    version: int
    completion: Completion


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
        await asyncio.sleep(config.debounce_ms / 1000)
        if not server.scheduler.is_latest(uri, number):
            return None
        doc = server.documents.get(uri)
        if doc is None:
            log.debug("completion for a document that is not open (or out of sync): %s", uri)
            return None
        try:
            offset = doc.offset_at(position.line, position.character)
        except PositionError as exc:
            raise JsonRpcInvalidParams(f"position outside {uri}: {exc}") from None
        engine = server.model.engine
        if engine is None:
            return None
        ctx = context_at(doc, offset)
        version = doc.version
        settings = settings_from(config)
        completion = await server.model.run(
            lambda: complete(ctx, engine, settings, cancel=cancel, cache_key=uri)
        )
    except asyncio.CancelledError:
        cancel.set()
        raise
    except JsonRpcInvalidParams:
        raise
    except Exception:
        log.exception("completion failed at %s:%d:%d", uri, position.line, position.character)
        return None
    if completion.generation.reason == "cancelled" or not completion.text:
        return None
    gen = completion.generation
    log.info(
        "completion %s: %d tokens (%d reused) prefill %.0f ms, %d new in %.0f ms (%s)",
        completion.mode, gen.prompt_tokens, gen.reused_tokens, gen.prefill_ms, gen.tokens,
        gen.decode_ms, gen.reason,
    )
    return Suggestion(doc=doc, offset=offset, version=version, completion=completion)
