"""Documentation of functions, methods and classes: find it, judge it, write it (pure).

The syntax half of a "Generate docstring" code action.  :func:`targets` lists the definitions
of a file as :class:`Target` values (name, parameters, whether a value is returned, exceptions
raised, the existing documentation); :func:`render` turns a documentation body — plain text, as
a model writes it — into a :class:`DocEdit` that puts it where the language expects it:

* Python: a docstring, the first statement of the body;
* JavaScript, TypeScript, Java: a ``/** … */`` block above the definition (above its
  decorators, annotations and ``export``);
* Go: ``//`` lines above, starting with the name;
* Rust: ``///`` lines above the item and its attributes;
* C, C++: the style the file already documents its definitions with (``/** */``, ``///`` or
  ``//``), ``/** */`` when it has none.

Offsets handed in and out (:func:`target_at`, :class:`DocEdit`) are code points of the Python
``str``; the byte offsets of a :class:`Target` are UTF-8 bytes, as tree-sitter counts them.
Rows are tree-sitter rows (0-based, ending at ``\\n``).

Python docstrings follow a convention; :func:`python_docstrings` collects a file's docstrings
and :func:`detect_convention` tells which one (``google``, ``numpy``, ``rest`` or ``plain``) a
repository uses.

The rooms: :mod:`.target` (the values), :mod:`.styles` (each language's comment style),
:mod:`.finding` (targets in a file), :mod:`.existing` (documentation already there),
:mod:`.writing` (the edits), :mod:`.conventions`. This package re-exports the public names.
"""

from __future__ import annotations

from kodama.syntax.docstrings.conventions import CONVENTIONS, Convention, detect_convention
from kodama.syntax.docstrings.finding import (
    python_docstring_spans,
    python_docstrings,
    target_at,
    targets,
)
from kodama.syntax.docstrings.target import DocEdit, Kind, Target
from kodama.syntax.docstrings.writing import apply, render, validate

__all__ = [
    "CONVENTIONS",
    "Convention",
    "DocEdit",
    "Kind",
    "Target",
    "apply",
    "detect_convention",
    "python_docstring_spans",
    "python_docstrings",
    "render",
    "target_at",
    "targets",
    "validate",
]
