"""The shared path of both completion features: document + position → completion text.

Handles everything around the model call that the LSP features have in common: type-ahead,
re-targeting a running generation, debounce, latest-wins, "model not ready yet", unknown
documents, invalid positions, cancellation, and one feature's failure never escaping as a
crash.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from kodama.model.completion import AnyOf, Completion, complete
from kodama.model.errors import KodamaError
from kodama.server.inflight import Flight, rest_after
from kodama.server.setup import settings_from
from kodama.syntax.document import SyntaxDocument
from kodama.syntax.positions import PositionError

if TYPE_CHECKING:
    from kodama.server.app import KodamaServer

log = logging.getLogger(__name__)

SPECULATE_AFTER_MS = 250
"""How long a shown suggestion must stay on screen, no key pressed, before the one that would
follow its acceptance is prepared (a typist who goes on typing costs the model nothing)."""


@dataclass(frozen=True)
class Suggestion:
    """A completion for a position of a document version."""

    doc: SyntaxDocument
    offset: int
    version: int
    text: str
    source: str
    """``model`` (generated for this request), ``retarget`` (generated for an earlier keystroke
    that this one agrees with) or ``typeahead`` (the rest of an earlier suggestion)."""


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

    In order: the rest of a remembered suggestion the user is typing (type-ahead); the
    document's running generation, when what was typed since agrees with it (re-targeting,
    ``kodama.server.inflight``); else, after the debounce, a new generation. Once a suggestion
    is shown, the one after it is prepared (:func:`_speculate`). Raises
    ``JsonRpcInvalidParams`` for a position outside the document (the client gets an error
    response); every other problem is logged and answered with None.
    """
    if not server.config.completion.enabled:
        return None
    number = server.scheduler.ticket(uri)
    try:
        located = locate(server, uri, position)
        if located is None:
            return None
        doc, offset = located
        version = doc.version

        def current() -> bool:
            return server.scheduler.is_latest(uri, number) and doc.version == version

        found = await _find(server, doc, offset, current)
    except JsonRpcInvalidParams:
        raise
    except KodamaError as exc:  # e.g. the remote server is down: the status already says so
        log.warning("no completion at %s:%d:%d: %s", uri, position.line, position.character, exc)
        return None
    except Exception:
        log.exception("completion failed at %s:%d:%d", uri, position.line, position.character)
        return None
    if found is None:
        return None
    text, source = found
    if source != "typeahead":  # type-ahead's suggestion was prepared for when it was new
        _speculate(server, doc, offset, text, current)
    return Suggestion(doc, offset, version, text, source)


async def _find(server: KodamaServer, doc: SyntaxDocument, offset: int,
                current: Callable[[], bool]) -> tuple[str, str] | None:
    """The text to show and where it comes from (see :class:`Suggestion`); None when there is
    nothing, or when ``current()`` says the request has been superseded meanwhile."""
    ahead = server.typeahead.lookup(doc.uri, doc.text, offset)
    if ahead is not None:
        return ahead, "typeahead"
    followed = server.flights.follow(doc.uri, doc.text[:offset], doc.text[offset:])
    if followed is not None:
        flight, typed = followed
        completion = await asyncio.shield(flight.task)
        if not current():
            return None
        text = "" if completion is None else rest_after(completion.text, typed)
        if text:
            return text, "retarget"
    else:
        config = server.config.completion
        await asyncio.sleep(server.scheduler.debounce_ms(doc.uri, config.debounce_ms) / 1000)
        if not current():
            return None
    started = _take_off(server, doc, offset)
    if started is None:
        return None
    completion = await asyncio.shield(started.task)
    if not current() or completion is None or not completion.text:
        return None  # if typed on meanwhile, the newer request answers (type-ahead has it)
    return completion.text, "model"


def _speculate(server: KodamaServer, doc: SyntaxDocument, offset: int, text: str,
               current: Callable[[], bool]) -> None:
    """Once ``text`` is shown at ``offset`` and the user has looked at it for
    ``SPECULATE_AFTER_MS`` without typing, generate the suggestion that follows if they
    accept it, as a flight for the accepted document state: type-ahead keeps what it finds,
    so accepting and pausing shows the next suggestion at once, and a request at that state
    that comes while it runs waits for it. Any other keystroke stops it at its next step, as
    does a completion waiting for the model. (Accepting only the first line of a multi-line
    suggestion needs nothing: the rest of it is type-ahead's.)"""

    async def later() -> None:
        await asyncio.sleep(SPECULATE_AFTER_MS / 1000)
        if current():
            accepted = SyntaxDocument(doc.uri, doc.text[:offset] + text + doc.text[offset:],
                                      doc.language, doc.version)
            _take_off(server, accepted, offset + len(text), speculative=True)

    task = asyncio.get_running_loop().create_task(later())
    server.flights.pending.add(task)
    task.add_done_callback(server.flights.pending.discard)


def _take_off(server: KodamaServer, doc: SyntaxDocument, offset: int,
              speculative: bool = False) -> Flight | None:
    """A new generation for ``doc`` at ``offset``, running as a task of its own: it outlives
    the request that started it (a cancelled request's keystroke may be followed by one that
    agrees) and puts what it found into type-ahead. A ``speculative`` one yields to any
    completion waiting for the model. None when the model is not ready."""
    engine = server.model.engine
    if engine is None:
        return None
    uri = doc.uri
    ctx = server.workspace_index.completion_context(doc, offset)
    if log.isEnabledFor(logging.DEBUG):
        log.debug("completion snippets for %s: %s", uri,
                  json.dumps([[snippet.path, snippet.kind] for snippet in ctx.snippets]))
    settings = settings_from(server.config.completion, server.config.context)
    flight = server.flights.begin(uri, ctx.prefix, ctx.suffix)
    cancel = AnyOf(flight, server.model.preempt) if speculative else flight

    async def fly() -> Completion | None:
        try:
            completion = await server.model.run(lambda: complete(
                ctx, engine, settings, cancel=cancel, cache_key=uri, watch=flight.watch),
                urgent=not speculative)
        finally:
            server.flights.end(uri, flight)
        _log_generation(completion, speculative)
        if completion.generation.reason == "cancelled":
            return None
        server.typeahead.remember(uri, ctx.prefix, ctx.suffix, completion.text)
        return completion

    flight.task = asyncio.get_running_loop().create_task(fly())
    flight.task.add_done_callback(_retrieve)
    return flight


def _log_generation(completion: Completion, speculative: bool) -> None:
    gen = completion.generation
    log.info(
        "%scompletion %s: %d tokens (%d reused) prefill %.0f ms, %d new (%d drafted) in %.0f ms"
        " (%s)%s", "speculative " if speculative else "", completion.mode, gen.prompt_tokens,
        gen.reused_tokens, gen.prefill_ms,
        gen.tokens, gen.draft_accepted, gen.decode_ms, gen.reason,
        "" if completion.text else f"; nothing to offer from {completion.raw!r}",
    )


def _retrieve(task: asyncio.Task[Completion | None]) -> None:
    """Read a finished flight's exception, so that one nobody waited for is still logged once
    (the requests that waited log it themselves)."""
    if not task.cancelled() and task.exception() is not None:
        log.debug("completion generation failed: %r", task.exception())
