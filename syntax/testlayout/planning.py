"""Planning the tests of one symbol: which language rules apply, for which framework."""

from __future__ import annotations

from pathlib import Path

from .common import JS_LANGUAGES, TestPlan, language_id, parent_dir
from .detect import framework_of, scan
from .go import plan_go
from .java import plan_java
from .javascript import plan_js
from .python import plan_python
from .rust import plan_rust

__all__ = ["plan_tests"]


def plan_tests(root: Path, source: Path, language: str, symbol: str) -> TestPlan:
    """Where the tests of *symbol* (``name``, or ``Class.method``) in *source* go.

    *source* is absolute or relative to *root*; *language* is a Kodama or LSP language id.
    Raises :class:`~kodama.syntax.testlayout.UnsupportedLanguageError` (C, C++, unknown
    languages) and ``ValueError`` when *source* is outside *root*.
    """
    lang = language_id(language)
    root = root.resolve()
    source = (source if source.is_absolute() else root / source).resolve()
    rel = _relative(root, source)
    repo = scan(root)
    framework = framework_of(repo, lang, parent_dir(rel))
    if lang == "python":
        return plan_python(repo, source, rel, symbol, framework)
    if lang in JS_LANGUAGES:
        return plan_js(repo, source, rel, lang, symbol, framework)
    if lang == "go":
        return plan_go(repo, source, rel)
    if lang == "rust":
        return plan_rust(repo, source, rel)
    return plan_java(repo, source, rel, framework)


def _relative(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        raise ValueError(f"{path} is not inside the repository {root}") from None
