"""Merging generated test code into a new or existing test file: which language rules apply,
line endings, and the edits of the existing text."""

from __future__ import annotations

from .common import JS_LANGUAGES, Edit, Merged, TestPlan, UnsupportedLanguageError, apply_edits
from .go import merge_go
from .java import merge_java
from .javascript import merge_js
from .python import merge_python
from .rust import merge_rust
from .splice import combine, strip_fences

__all__ = ["merge", "merge_edits"]


def merge(plan: TestPlan, existing: str | None, generated: str) -> str:
    """The whole test file of *plan* after merging *generated* into it (see
    :func:`merge_edits`, which also gives the edits)."""
    return merge_edits(plan, existing, generated).text


def merge_edits(plan: TestPlan, existing: str | None, generated: str) -> Merged:
    """Merge *generated* test code into the test file of *plan*: the result and its edits.

    *existing* is the current text of :attr:`TestPlan.path` (None or blank: a new file; for
    Rust, the source file's text — required when the tests go into the source file).  Import
    lines of *generated* (and a package clause, a Rust ``mod tests`` or Java class wrapper) are
    taken apart: imports missing from the file are added after its last import, the tests are
    appended (or inserted into the existing test module / class).  ``import pytest`` from the
    plan is dropped when nothing uses ``pytest``.  Markdown code fences around *generated* are
    removed.  Line endings follow *existing*.
    """
    generated = strip_fences(generated.replace("\r\n", "\n"))
    nl = "\r\n" if existing is not None and "\r\n" in existing else "\n"
    if existing is not None and not existing.strip():
        existing_text = existing
        existing = None
    else:
        existing_text = existing or ""
    lang = plan.language
    if lang == "rust" and existing is None and plan.header.startswith("#[cfg(test)]"):
        raise ValueError("merging Rust tests needs the text of the source file")
    if lang == "python":
        splices = merge_python(plan, existing, generated)
    elif lang in JS_LANGUAGES:
        splices = merge_js(plan, existing, generated)
    elif lang == "go":
        splices = merge_go(plan, existing, generated)
    elif lang == "rust":
        splices = merge_rust(plan, existing, generated)
    elif lang == "java":
        splices = merge_java(plan, existing, generated)
    else:
        raise UnsupportedLanguageError(lang)
    if existing is None:
        text = "".join(s.text for s in splices).replace("\n", nl)
        edits: tuple[Edit, ...] = (Edit(0, len(existing_text), text),)
        return Merged(text, edits)
    edits = combine(splices, nl)
    return Merged(apply_edits(existing, edits), edits)
