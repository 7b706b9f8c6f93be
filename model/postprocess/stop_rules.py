"""Filter ``stop_rules``: the streaming stop rules, applied once more to the finished text.

Rule: :class:`kodama.model.stops.StopRules` is run over the whole completion with its last line
treated as complete, and the completion ends where a rule says so. While streaming, the last
line is never judged (it may still grow); a generation that ended by the end-of-text token or
the token limit, or text from another source (evaluation, tests), gets the same treatment here.
"""

from __future__ import annotations

from kodama.model.types import CompletionContext

__all__ = ["stop_rules"]


def stop_rules(ctx: CompletionContext, text: str) -> str:
    """Apply the ``stop_rules`` rule (see the module docstring) to ``text``."""
    # Imported here: kodama.model.stops imports this package's helpers (import cycle).
    from kodama.model.stops import StopRules

    cut = StopRules(ctx, max_lines=_MAX_LINES).check(text + "\n")
    return text if cut is None else text[: min(cut, len(text))]


_MAX_LINES = 10_000
"""No line limit here: the generation's own ``max_lines`` has already applied while streaming."""
