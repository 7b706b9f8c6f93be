"""The completion task: document position → context → prompt → generation → clean completion.

Torch-free: the model sits behind the small ``TextGenerator`` interface (the real ``Engine`` in
``kodama.model.engine`` or a fake in tests). The server's LSP handlers and the ``kodama complete``
command both build the context with :func:`context_at` (repository snippets included) and run
:func:`complete`, so they always agree; :func:`complete_at` is the same without snippets.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from kodama.model.postprocess import postprocess
from kodama.model.prompt import Budget, FimFormat, build_prompt
from kodama.model.stops import StopRules
from kodama.model.types import CompletionContext, Mode, Snippet
from kodama.syntax.analysis import completion_mode
from kodama.syntax.document import SyntaxDocument

StopReason = Literal["eos", "stop", "length", "cancelled"]


@dataclass(frozen=True)
class Generation:
    """What the engine produced for one prompt, with its cost."""

    text: str
    """Generated text, already cut where a stop rule asked."""
    reason: StopReason
    tokens: int = 0
    """New tokens decoded."""
    prompt_tokens: int = 0
    reused_tokens: int = 0
    """Prompt tokens whose KV cache was reused from an earlier request."""
    prefill_ms: float = 0.0
    decode_ms: float = 0.0
    draft_accepted: int = 0
    """Tokens that came from confirmed prompt-lookup drafts (decoding steps saved)."""
    ids: tuple[int, ...] = ()
    """The new tokens themselves (a continuation feeds ``prompt + ids`` back, reusing the cache)."""


class Cancellation(Protocol):
    """Anything with ``is_set()``: a ``threading.Event``, or a combination of several."""

    def is_set(self) -> bool:
        """Whether the generation should stop now."""
        ...


class AnyOf:
    """A cancellation that is set when any of several is."""

    def __init__(self, *events: Cancellation) -> None:
        """Set as soon as one of ``events`` is."""
        self._events = events

    def is_set(self) -> bool:
        """Whether one of the events is set."""
        return any(event.is_set() for event in self._events)


class TextGenerator(Protocol):
    """The interface the completion task needs from a model."""

    heals_tokens: bool
    """Whether ``generate`` heals the token at ``heal_at`` (see below). The prompt puts the
    cursor line's typed text after the middle marker only for such an engine: unhealed, that
    layout can derail the model (:mod:`kodama.model.prompt`)."""

    @property
    def fim(self) -> FimFormat | None:
        """The model's fill-in-the-middle format, None for plain causal models."""
        ...

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` without special tokens."""
        ...

    def generate(
        self,
        ids: Sequence[int],
        *,
        max_new_tokens: int,
        stop: Callable[[str], int | None],
        cancel: Cancellation | None = None,
        cache_key: str | None = None,
        heal_at: int | None = None,
    ) -> Generation:
        """Greedy continuation of ``ids``; ``stop`` sees the text so far and may cut it.

        ``heal_at`` is the index in ``ids`` of the last token before the cursor: an engine
        that heals tokens (:mod:`kodama.model.healing`) takes it out of the prompt, makes the
        continuation start with its text and returns the text after it; others ignore it.
        """
        ...


@dataclass(frozen=True)
class CompletionSettings:
    """Knobs of the completion task (filled from the server configuration)."""

    budget: Budget = field(default_factory=Budget)
    max_new_tokens_single: int = 48
    max_new_tokens_multi: int = 128
    max_lines: int = 16


@dataclass(frozen=True)
class Completion:
    """A finished completion: the text to insert at the cursor ('' = nothing to offer)."""

    text: str
    raw: str
    """The model's text before post-processing (for logs and evaluation)."""
    mode: Mode
    generation: Generation


def takes_snippets(mode: Mode) -> bool:
    """Whether repository snippets enter the prompt of a completion in ``mode``: multi-line only.

    Measured against the bare model on repositories Kodama was not tuned on (``kodama eval
    --context raw,repo``, ``benchmarks/quality.py``): in single-line prompts the snippets pulled
    the model towards names from other files (an import, a class name, an argument) more often
    than they supplied the right one, so single-line answers matched less often with them; a
    block body gains from them. Single-line prompts are also shorter and so faster.
    """
    return mode == "multi"


def context_at(
    doc: SyntaxDocument,
    offset: int,
    *,
    snippets: Sequence[Snippet] = (),
    path: str | None = None,
) -> CompletionContext:
    """The completion context at code-point ``offset`` of ``doc``.

    ``snippets`` is repository context from other files (most relevant first), kept only where
    :func:`takes_snippets` says, and ``path`` the document's repository-relative path, shown
    to the model with them.

    Documents without a syntax tree (unknown language, binary, huge) get ``language=None`` so
    that no later stage tries to parse them.
    """
    language = doc.language.id if doc.language is not None and doc.tree is not None else None
    mode = completion_mode(doc, offset)
    return CompletionContext(
        prefix=doc.text[:offset],
        suffix=doc.text[offset:],
        language=language,
        mode=mode,
        path=path,
        snippets=tuple(snippets) if takes_snippets(mode) else (),
    )


def complete(
    ctx: CompletionContext,
    engine: TextGenerator,
    settings: CompletionSettings,
    *,
    cancel: Cancellation | None = None,
    cache_key: str | None = None,
    watch: Callable[[str], None] | None = None,
) -> Completion:
    """Run the whole pipeline for one context and return the cleaned completion (snippets
    only where :func:`takes_snippets` says). ``watch`` sees the raw text so far at every
    token (from the thread that generates)."""
    if ctx.snippets and not takes_snippets(ctx.mode):
        ctx = dataclasses.replace(ctx, snippets=())
    prompt = build_prompt(ctx, engine, engine.fim, settings.budget,
                          typed_in_middle=engine.heals_tokens)
    rules = StopRules(ctx, max_lines=settings.max_lines)
    limit = settings.max_new_tokens_multi if ctx.mode == "multi" else settings.max_new_tokens_single
    indent = _line_indent(ctx)

    def stop(text: str) -> int | None:
        skip = repeated_indent(indent, text)
        if watch is not None:
            watch(text[skip:])
        cut = rules.check(text[skip:])
        return None if cut is None else cut + skip

    generation = engine.generate(
        prompt.ids, max_new_tokens=limit, stop=stop, cancel=cancel, cache_key=cache_key,
        heal_at=prompt.last_prefix,
    )
    if generation.reason == "cancelled":
        return Completion(text="", raw=generation.text, mode=ctx.mode, generation=generation)
    raw = generation.text
    text = postprocess(ctx, raw[repeated_indent(indent, raw):])
    return Completion(text=text, raw=raw, mode=ctx.mode, generation=generation)


def _line_indent(ctx: CompletionContext) -> str:
    """The cursor line's text before the cursor when it is only indentation, else ''."""
    line = ctx.prefix[ctx.prefix.rfind("\n") + 1:]
    return line if line and not line.strip() else ""


def repeated_indent(indent: str, text: str) -> int:
    """How much of ``text`` is the cursor line's indentation written again (0 if none).

    With the cursor after the indentation of an empty line, models sometimes write that
    indentation once more (typically at the end of a file, with nothing after the cursor);
    kept, it would indent the first line twice as deep as the lines after it.
    """
    if not indent or not text.startswith(indent):
        return 0
    rest = text[len(indent):]
    return len(indent) if rest[:1] and not rest[:1].isspace() else 0


def complete_at(
    doc: SyntaxDocument,
    offset: int,
    engine: TextGenerator,
    settings: CompletionSettings,
    *,
    cancel: Cancellation | None = None,
) -> Completion:
    """Completion at ``offset`` of ``doc``, reusing the engine's cache for this document."""
    return complete(context_at(doc, offset), engine, settings, cancel=cancel, cache_key=doc.uri)
