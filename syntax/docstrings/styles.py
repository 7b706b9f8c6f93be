"""How each language writes documentation: which comments count as documentation, and how new
documentation is written (a ``/** */`` block, ``///`` or ``//`` lines, or a Python docstring)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CommentStyle:
    """How a language writes documentation comments."""

    docs: tuple[str, ...]
    """Openers of comments that count as documentation."""
    not_docs: tuple[str, ...] = ()
    """Openers that look like documentation but are not (Rust's ``////``)."""
    directive: str | None = None
    """Pattern of directive comments that may stand between documentation and definition."""
    marker: str = "/**"
    """How new documentation is written: ``/**`` (a block), ``///`` or ``//`` (lines)."""


_JSDOC = CommentStyle(docs=("/**", "//"))
_C_LIKE = CommentStyle(docs=("/*", "//"))
STYLES: dict[str, CommentStyle] = {
    "javascript": _JSDOC,
    "typescript": _JSDOC,
    "tsx": _JSDOC,
    "java": _JSDOC,
    "go": CommentStyle(
        docs=("//",), directive=r"//(?:[a-z0-9]+:[a-z0-9]|line |export )", marker="//"
    ),
    "rust": CommentStyle(docs=("///", "/**"), not_docs=("////", "/***", "/**/"), marker="///"),
    "c": _C_LIKE,
    "cpp": _C_LIKE,
}
MARKER_FROM_FILE = frozenset({"c", "cpp"})
"""Languages whose new documentation follows the style the file already uses."""
MARKERS = ("/**", "///", "//")
"""Every marker, in the order that breaks ties when a file uses several."""

DOCSTRING_LANGUAGES = frozenset({"python"})
"""Languages documented by a string in the body rather than by comments above."""
