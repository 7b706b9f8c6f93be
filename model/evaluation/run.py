"""One evaluation run: a completion at every hole of a hole set, each scored.

No answer leaks into repository context: the provider sees only the holed document, and any
snippet that still claims to come from another held-out file is dropped and counted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from kodama.model.completion import Completion, CompletionSettings, TextGenerator, complete
from kodama.model.evaluation.holes import HoleSet
from kodama.model.evaluation.providers import ContextProvider
from kodama.model.evaluation.scoring import HoleResult, RunResult, score
from kodama.model.types import CompletionContext

OnHoleResult = Callable[[int, int, HoleResult], None]
"""Told after each hole: holes done, holes in all, and that hole's scored result."""

Completer = Callable[[CompletionContext, TextGenerator, CompletionSettings, str], Completion]
"""How a hole is completed: context, engine, settings and the engine cache key → completion."""


def served(ctx: CompletionContext, engine: TextGenerator, settings: CompletionSettings,
           cache_key: str) -> Completion:
    """The product's path (:func:`kodama.model.completion.complete`): what the server offers."""
    return complete(ctx, engine, settings, cache_key=cache_key)


def evaluate(
    hole_set: HoleSet,
    engine: TextGenerator,
    settings: CompletionSettings,
    provider: ContextProvider,
    *,
    completer: Completer = served,
    config: dict[str, Any] | None = None,
    progress: OnHoleResult | None = None,
) -> RunResult:
    """Complete every hole of ``hole_set`` and score it.

    The provider sees the holed document only (``prefix + suffix``), never the middle; its
    per-file cache is cleared before each hole (``forget(path)``, when it has one), since
    another hole's document holds this hole's middle; snippets from another held-out file are
    dropped and counted. ``completer`` is the path under test (the served one by default, or
    :func:`kodama.model.evaluation.raw.complete_raw`). Each hole gets its own engine cache
    key (forgotten afterwards), so latencies are those of a first request at that position.
    """
    held = set(hole_set.held_out)
    results: list[HoleResult] = []
    dropped = 0
    forget = getattr(engine, "forget", None)
    reset = getattr(provider, "forget", None)
    for index, hole in enumerate(hole_set.holes):
        text = hole.prefix + hole.suffix
        if callable(reset):
            # A provider may cache per file; another hole's text holds this hole's answer.
            reset(hole.path)
        offered = provider.snippets(hole.path, text, hole.offset)
        snippets = tuple(s for s in offered if s.path == hole.path or s.path not in held)
        dropped += len(offered) - len(snippets)
        ctx = CompletionContext(prefix=hole.prefix, suffix=hole.suffix, language=hole.language,
                                mode=hole.mode, path=hole.path, snippets=snippets)
        key = f"kodama-eval:{index}"
        started = time.perf_counter()
        completion = completer(ctx, engine, settings, key)
        latency = (time.perf_counter() - started) * 1000
        if callable(forget):
            forget(key)
        gen = completion.generation
        result = score(hole, completion.text, latency, prompt_tokens=gen.prompt_tokens,
                       new_tokens=gen.tokens, stop_reason=gen.reason, snippets=len(snippets))
        results.append(result)
        if progress is not None:
            progress(index + 1, len(hole_set.holes), result)
    return RunResult(config=dict(config or {}), results=tuple(results), dropped_snippets=dropped)

