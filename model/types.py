"""Plain data shared by the completion pipeline: what the model is asked, and in which mode.

Pure: no torch, no pygls. The server fills these from a document; prompt building, stop rules
and post-processing read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Mode = Literal["single", "multi"]
"""``single``: complete the current line only. ``multi``: may complete a whole block."""


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
