"""Build a :class:`CompletionContext` from source code with a cursor marker (``█``)."""

from __future__ import annotations

from kodama.model.types import CompletionContext, Mode

__all__ = ["CURSOR", "ctx_from_marked"]

CURSOR = "█"
"""The cursor marker: exactly one per marked text."""


def ctx_from_marked(
    code: str, language: str | None = "python", mode: Mode = "single"
) -> CompletionContext:
    """The context at the single ``█`` of ``code`` (the marker itself is removed)."""
    if code.count(CURSOR) != 1:
        raise ValueError(f"expected exactly one {CURSOR!r} in the marked code")
    prefix, suffix = code.split(CURSOR)
    return CompletionContext(prefix=prefix, suffix=suffix, language=language, mode=mode)
