"""Plain data shared by the model layer: what the model is asked, in which mode, and progress.

Pure: no torch, no pygls. The server fills the completion types from a document; prompt
building, stop rules and post-processing read them. :data:`ProgressFn` is the one way long jobs
(getting weights ready, loading a model) tell their caller how far they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

Mode = Literal["single", "multi"]
"""``single``: complete the current line only. ``multi``: may complete a whole block."""


@dataclass(frozen=True)
class Snippet:
    """A piece of code from elsewhere in the repository that may help complete this one."""

    path: str
    """Repository-relative path of the file the snippet comes from (``/`` separators)."""
    text: str
    """The code itself (whole lines)."""
    kind: str = "retrieved"
    """Why it is here: ``definition`` (of a symbol used near the cursor or imported),
    ``scope`` (an enclosing signature), ``recent`` (an open / recently edited file),
    ``retrieved`` (lexical/embedding search)."""
    score: float = 0.0
    """Relevance; higher first when the budget cannot hold them all."""


@dataclass(frozen=True)
class CompletionContext:
    """The text around the cursor, exactly as the document holds it.

    ``prefix`` is everything before the cursor and ``suffix`` everything after it (whole
    document; prompt building trims to its token budget, post-processing may look at all of it).
    """

    prefix: str
    """Document text before the cursor."""
    suffix: str
    """Document text after the cursor."""
    language: str | None
    """kodama.syntax language id (``python``, ``javascript``, ``typescript``, ``tsx``, ``go``,
    ``rust``, ``java``, ``c``, ``cpp``), or None when the language is unknown."""
    mode: Mode = "single"
    """Whether a single line or a multi-line block is wanted at this position."""
    path: str | None = None
    """Repository-relative path of the document (shown to the model with the snippets)."""
    snippets: tuple[Snippet, ...] = ()
    """Repository context, most relevant first; prompt building keeps what its budget holds.
    Keep it stable while the user types in one place: the engine reuses the KV cache of the
    unchanged start of the prompt, and snippets come first in it."""


ProgressFn = Callable[[str, float | None], None]
"""Progress callback: a message and a fraction in 0..1, or None when the fraction is unknown."""


def report_progress(progress: ProgressFn | None, message: str, fraction: float | None) -> None:
    """Tell ``progress`` (when there is one) ``message`` and ``fraction``."""
    if progress is not None:
        progress(message, fraction)
