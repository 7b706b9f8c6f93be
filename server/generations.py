"""Long generations inside the server: explanations, docstrings and tests.

They share the one model with completions, and completions keep priority: a task generates in
*slices* on the model thread, each stopping at its next token as soon as a completion is waiting
(``ModelHost.preempt``); the next slice queues behind that completion and continues from the
same KV cache. Each task shows a cancellable ``$/progress`` bar; cancelling (the bar's button, a
superseding hover, ``$/cancelRequest``) stops it at its next token.

Explanations are cached by the content the model saw (code, repository context, model), so a
hover over unchanged code answers at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from kodama.model.completion import AnyOf
from kodama.model.errors import TaskError
from kodama.model.tasks import explain
from kodama.model.tasks.generate import (
    AnswersChats,
    ChatRequest,
    continued,
    prompt_ids,
    run_chat,
)
from kodama.model.tasks.subject import Code, Selection, content_key
from kodama.server.work_done_progress import WorkDoneProgress
from kodama.syntax.document import SyntaxDocument

if TYPE_CHECKING:
    from kodama.server.app import KodamaServer

log = logging.getLogger(__name__)

MAX_EXPLANATIONS = 128
"""Explanations kept in memory (least recently used dropped first)."""


class TaskCancelledError(Exception):
    """The user (or a newer request) cancelled the task."""


def selection_for(server: KodamaServer, doc: SyntaxDocument, start: int, end: int) -> Selection:
    """The selected code of ``doc``, with the repository definitions used around it."""
    if doc.language is None:
        raise TaskError("Kodama does not know this file's language")
    view = server.workspace_index
    return Selection(language=doc.language.id, path=view.path_for(doc) or doc.uri, text=doc.text,
                     start=start, end=end, context=view.snippets_for(doc, (start + end) // 2))


async def generate(
    server: KodamaServer,
    request: ChatRequest,
    *,
    title: str,
    cancel: threading.Event,
    key: str,
    on_text: Callable[[str], None] | None = None,
) -> str:
    """The model's answer to ``request`` (after its prefill), generated in slices that yield to
    completions.

    Raises TaskError when the model is not ready and TaskCancelledError when ``cancel`` is set.
    """
    engine = server.model.engine
    if engine is None:
        raise TaskError(f"the model is not ready ({server.model.message})")
    progress = WorkDoneProgress(server, asyncio.get_running_loop(), cancel=cancel)
    progress.begin("Kodama", title)
    slot = f"task:{key}"
    outcome = "cancelled"
    budget = request.max_new_tokens
    try:
        if isinstance(engine, AnswersChats):
            text = await _answer_at_once(server, engine, request, cancel, progress, title, on_text)
            outcome = "done"
            return text
        ids = await server.model.run(lambda: prompt_ids(engine, request))
        out: list[int] = []
        text = ""
        stop = AnyOf(cancel, server.model.preempt)
        while len(out) < budget:
            if cancel.is_set():
                raise TaskCancelledError(title)
            generation = await server.model.run(functools.partial(
                engine.generate, ids + out, max_new_tokens=budget - len(out),
                stop=continued(request.stop, text), cancel=stop, cache_key=slot))
            out.extend(generation.ids)
            if generation.reason == "stop":
                text += generation.text
            else:
                text = engine.decode(out)
            progress.report(f"{title}: {len(out)} tokens", len(out) / budget)
            if on_text is not None and generation.ids:
                on_text(text)
            if generation.reason != "cancelled":
                break
        if cancel.is_set():
            raise TaskCancelledError(title)
        outcome = "done"
        return text
    except TaskError as exc:
        outcome = str(exc)
        raise
    finally:
        progress.end(outcome)
        with contextlib.suppress(Exception):
            await server.model.run(lambda: engine.forget(slot))


async def _answer_at_once(server: KodamaServer, engine: AnswersChats, request: ChatRequest,
                          cancel: threading.Event, progress: WorkDoneProgress, title: str,
                          on_text: Callable[[str], None] | None) -> str:
    """A remote backend's answer: one streamed request (the server runs many at once, so
    nothing needs slicing), with progress and the growing text reported as it arrives."""
    budget = request.max_new_tokens
    pieces = [0]

    def watch(text: str) -> int | None:
        pieces[0] += 1
        progress.report(f"{title}: {pieces[0]} tokens", min(pieces[0] / budget, 1.0))
        if on_text is not None:
            on_text(text)
        return None

    generation = await server.model.run(lambda: run_chat(engine, request, watch=watch,
                                                         cancel=cancel))
    if cancel.is_set() or generation.reason == "cancelled":
        raise TaskCancelledError(title)
    return generation.text


@dataclass
class Explanation:
    """One explanation, finished or being written."""

    subject: Code
    origin: Literal["hover", "command"]
    state: Literal["running", "done", "failed"] = "running"
    markdown: str = ""
    partial: str = ""
    error: str = ""
    cancel: threading.Event = field(default_factory=threading.Event)
    finished: asyncio.Event = field(default_factory=asyncio.Event)


class Explanations:
    """The explanation cache and the background generations that fill it."""

    def __init__(self, server: KodamaServer) -> None:
        """Empty; nothing runs until :meth:`request`."""
        self.server = server
        self._entries: OrderedDict[str, Explanation] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()

    def key(self, subject: Code) -> str:
        """The cache key: what the model sees, and which model."""
        return content_key(subject, "explain", self.server.model.identity)

    def finished(self, subject: Code) -> Explanation | None:
        """The finished explanation of ``subject`` if there is one (nothing is started)."""
        entry = self._entries.get(self.key(subject))
        return entry if entry is not None and entry.state == "done" else None

    def request(self, subject: Code, origin: Literal["hover", "command"]) -> Explanation:
        """The explanation of ``subject``: cached, running, or started now in the background.

        A hover-started explanation supersedes (cancels) other running hover-started ones:
        the user has moved on.
        """
        key = self.key(subject)
        entry = self._entries.get(key)
        if entry is not None and entry.state != "failed" and not entry.cancel.is_set():
            self._entries.move_to_end(key)
            if origin == "command":
                entry.origin = "command"
            return entry
        if origin == "hover":
            for other in self._entries.values():
                if other.state == "running" and other.origin == "hover":
                    other.cancel.set()
        entry = Explanation(subject=subject, origin=origin)
        self._entries[key] = entry
        while len(self._entries) > MAX_EXPLANATIONS:
            self._entries.popitem(last=False)
        task = asyncio.get_running_loop().create_task(self._run(key, entry))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return entry

    async def _run(self, key: str, entry: Explanation) -> None:
        subject = entry.subject

        def partial(text: str) -> None:
            entry.partial = text

        try:
            answer = await generate(
                self.server, explain.request(subject), title=f"explaining {subject.name}",
                cancel=entry.cancel, key=key, on_text=partial)
            entry.markdown = explain.finish(subject, answer)
            entry.state = "done"
        except TaskCancelledError:
            entry.state, entry.error = "failed", "cancelled"
            self._entries.pop(key, None)
        except TaskError as exc:
            entry.state, entry.error = "failed", str(exc)
        except Exception as exc:  # never let a background task die silently
            log.exception("explanation of %s failed", subject.name)
            entry.state, entry.error = "failed", f"{exc.__class__.__name__}: {exc}"
        finally:
            entry.finished.set()

    async def wait(self, entry: Explanation, seconds: float) -> bool:
        """Wait up to ``seconds`` for ``entry`` to finish; whether it did."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(entry.finished.wait(), seconds)
        return entry.finished.is_set()
