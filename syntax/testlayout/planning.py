"""Planning the tests of one symbol: which language rules apply, for which framework, and the
check that the test file stays inside the repository."""

from __future__ import annotations

from pathlib import Path

from .common import JS_LANGUAGES, TestPlan, language_id, parent_dir
from .detect import check_target, framework_of, scan, source_in
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
    languages), and :class:`~kodama.syntax.testlayout.OutsideRepositoryError` (a
    ``ValueError``) when *source* is outside *root* or the test file would be (see
    :func:`~kodama.syntax.testlayout.check_target`).
    """
    lang = language_id(language)
    root = root.resolve()
    rel = source_in(root, source if source.is_absolute() else root / source)
    source = root / rel
    repo = scan(root)
    framework = framework_of(repo, lang, parent_dir(rel))
    if lang == "python":
        plan = plan_python(repo, source, rel, symbol, framework)
    elif lang in JS_LANGUAGES:
        plan = plan_js(repo, source, rel, lang, symbol, framework)
    elif lang == "go":
        plan = plan_go(repo, source, rel)
    elif lang == "rust":
        plan = plan_rust(repo, source, rel)
    else:
        plan = plan_java(repo, source, rel, framework)
    check_target(root, plan.path)
    return plan
