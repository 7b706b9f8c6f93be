"""What every part of the test layout shares: the plan and edit types, supported languages and
frameworks, and helpers for ``/``-separated repository paths (pure)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from kodama.syntax import languages

__all__ = [
    "FRAMEWORKS",
    "JS_LANGUAGES",
    "SUPPORTED_LANGUAGES",
    "Edit",
    "Framework",
    "Merged",
    "OutsideRepositoryError",
    "TestPlan",
    "UnsupportedLanguageError",
    "ancestors",
    "apply_edits",
    "base_name",
    "import_name",
    "join",
    "language_id",
    "majority",
    "normalized",
    "parent_dir",
]

Framework = Literal[
    "pytest", "unittest", "jest", "vitest", "mocha", "node:test", "go", "rust", "junit4", "junit5"
]
"""A test framework :func:`~kodama.syntax.testlayout.detect_framework` can name."""

FRAMEWORKS: tuple[Framework, ...] = get_args(Framework)

SUPPORTED_LANGUAGES = ("python", "javascript", "typescript", "tsx", "go", "rust", "java")
"""Kodama language ids :func:`~kodama.syntax.testlayout.plan_tests` supports (LSP ids such as
``typescriptreact`` too)."""

JS_LANGUAGES = frozenset({"javascript", "typescript", "tsx"})
"""The languages planned and merged by the JavaScript / TypeScript rules."""


class UnsupportedLanguageError(ValueError):
    """Test generation does not support this language."""

    def __init__(self, language: str) -> None:
        super().__init__(
            f"generating tests is not supported for {language!r}: supported languages are "
            + ", ".join(SUPPORTED_LANGUAGES)
        )
        self.language = language


class OutsideRepositoryError(ValueError):
    """The code under test, or the test file planned for it, lies outside the repository."""


@dataclass(frozen=True)
class TestPlan:
    """Where the tests of one symbol go and what they need (see
    :func:`~kodama.syntax.testlayout.plan_tests`)."""

    __test__ = False  # not a pytest test class

    framework: Framework
    language: str
    """Kodama language id of the test file (``python``, ``typescript``, …)."""
    path: Path
    """Absolute path of the test file (for Rust usually the source file itself)."""
    exists: bool
    header: str
    """What a new test file starts with: package clause, framework and code-under-test imports
    (``\\n``-terminated).  Rust: the opening lines of a new ``#[cfg(test)] mod tests {`` (its
    ``}`` is added by :func:`~kodama.syntax.testlayout.merge`), ``""`` when an inline test
    module exists, ``use super::*;`` for an out-of-line test module file."""
    imports: tuple[str, ...]
    """Import lines the tests need (added to an existing file when missing)."""
    module: str
    """How the code under test is reached: Python dotted module, JS/TS relative specifier, Go
    package name, Rust ``super``, Java package (``""`` for the default package)."""
    style_hint: str
    """One or two sentences on the conventions, for the prompt."""
    insert_offset: int | None = None
    """Rust: offset in the source text where items go inside its existing inline test module
    (the start of the line of its closing brace); None otherwise.
    :func:`~kodama.syntax.testlayout.merge` finds the module again in the text it is given, so
    a stale offset does no harm."""


@dataclass(frozen=True)
class Edit:
    """Replace ``existing[start:end]`` with :attr:`text`."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Merged:
    """The result of :func:`~kodama.syntax.testlayout.merge_edits`."""

    text: str
    """The whole test file afterwards."""
    edits: tuple[Edit, ...]
    """Non-overlapping edits of the existing text, in order (one covering everything for a new
    file): ``apply_edits(existing or "", edits) == text``."""


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """Apply non-overlapping *edits* (offsets into *text*) to *text*."""
    out: list[str] = []
    cursor = 0
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        if edit.start < cursor:
            raise ValueError(f"overlapping edit at {edit.start}")
        out.append(text[cursor : edit.start])
        out.append(edit.text)
        cursor = edit.end
    out.append(text[cursor:])
    return "".join(out)


def language_id(language: str) -> str:
    """The Kodama id of *language* (a Kodama or LSP id); raises
    :class:`UnsupportedLanguageError` for a language without test generation."""
    spec = languages.detect("", language)
    if spec is None or spec.id not in SUPPORTED_LANGUAGES:
        raise UnsupportedLanguageError(language)
    return spec.id


# ------------------------------------------------------------------ repository-relative paths
def base_name(rel: str) -> str:
    """The last component of *rel*."""
    return rel.rsplit("/", 1)[-1]


def parent_dir(rel: str) -> str:
    """The folder of *rel* (``""``: the root)."""
    return rel.rsplit("/", 1)[0] if "/" in rel else ""


def join(*parts: str) -> str:
    """*parts* joined with ``/``, empty ones left out."""
    return "/".join(p for p in parts if p)


def ancestors(rel_dir: str) -> Iterator[str]:
    """*rel_dir*, its parent, …, ``""`` (the root)."""
    while True:
        yield rel_dir
        if not rel_dir:
            return
        rel_dir = parent_dir(rel_dir)


# ------------------------------------------------------------------------------------- misc
def majority(counter: Counter[str], default: str) -> str:
    """The most common key of *counter* (the first counted among equals), else *default*."""
    if not counter:
        return default
    best = max(counter.values())
    return next(k for k, v in counter.items() if v == best)


def normalized(text: str) -> str:
    """*text* with every run of whitespace made one space (for comparing statements)."""
    return " ".join(text.split())


def import_name(symbol: str) -> str:
    """The name to import for *symbol*: ``Class`` for ``Class.method`` / ``Class::method``."""
    return re.split(r"\.|::|#", symbol.strip(), maxsplit=1)[0]
