"""Post-processing of a raw completion: small filters run in order (pure).

Each filter is ``(ctx, text) -> str`` in its own module, whose docstring states its rule.
:func:`postprocess` runs :data:`FILTERS` in order (again after a syntax cut); ``''`` at any
step means: offer nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from kodama.model.postprocess.brackets import brackets
from kodama.model.postprocess.repetition import repetition
from kodama.model.postprocess.stop_rules import stop_rules
from kodama.model.postprocess.suffix_overlap import suffix_overlap
from kodama.model.postprocess.syntax_truncate import syntax_truncate
from kodama.model.postprocess.trailing_comment import trailing_comment
from kodama.model.postprocess.trim import trim
from kodama.model.types import CompletionContext

__all__ = ["FILTERS", "MAX_PASSES", "Filter", "postprocess"]

Filter = Callable[[CompletionContext, str], str]
"""A post-processing step: the context and the completion so far → the new completion."""

FILTERS: list[Filter] = [
    stop_rules,
    trim,
    trailing_comment,
    suffix_overlap,
    repetition,
    brackets,
    syntax_truncate,
]
"""The filters in the order :func:`postprocess` runs them."""


MAX_PASSES = 3
"""Most passes over :data:`FILTERS` for one completion."""


def postprocess(ctx: CompletionContext, text: str) -> str:
    """Clean ``text`` generated at ``ctx``; the final completion, ``''`` for nothing to offer.

    The filters run in order. When ``syntax_truncate`` cut the completion, the new ending may
    duplicate the suffix (``time█s;`` cut to ``s``), so the filters run once more, up to
    :data:`MAX_PASSES` passes in all.
    """
    for _ in range(MAX_PASSES):
        cut = False
        for step in FILTERS:
            result = step(ctx, text)
            if not result.strip():
                return ""
            cut = cut or (step is syntax_truncate and result != text)
            text = result
        if not cut:
            break
    return text
