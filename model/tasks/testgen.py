"""The "tests" task: unit tests for a function, method or class, in the repository's own
framework and layout, merged into the right test file (created when missing) with the imports
the tests need, and checked to parse."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kodama.model.errors import TaskError
from kodama.model.tasks.answers import main_code
from kodama.model.tasks.generate import ChatRequest
from kodama.model.tasks.subject import Subject, values
from kodama.model.tasks.templates import Message, fence, render, template
from kodama.syntax import testlayout
from kodama.syntax.analysis import parses
from kodama.syntax.testlayout import TestPlan

EXISTING_LINES = 40
"""Lines of the existing test file shown to the model as an example of the house style."""


@dataclass(frozen=True)
class TestRequest:
    """Everything the tests task needs: the code, the plan, the test file as it is now."""

    subject: Subject
    plan: TestPlan
    existing: str | None
    """The test file's current text (None when it does not exist yet)."""
    source: Path
    """The file of the code under test (Rust keeps its tests in it)."""
    root: Path
    """The repository the test file must stay inside."""


@dataclass(frozen=True)
class TestResult:
    """The test file after the change."""

    path: Path
    exists: bool
    before: str
    """Its text before ('' for a new file)."""
    text: str


def prepare(subject: Subject, root: Path, source: Path,
            open_text: Callable[[Path], str | None]) -> TestRequest:
    """Plan where the tests go; ``open_text`` gives an editor's unsaved text of a file.

    Raises TaskError for a language without a known test framework, and for a source or a
    test file outside ``root`` (:func:`~kodama.syntax.testlayout.plan_tests`).
    """
    try:
        plan = testlayout.plan_tests(root, source, subject.language, subject.qualified_name)
    except ValueError as exc:
        raise TaskError(str(exc)) from None
    existing = open_text(plan.path) if plan.exists else None
    if plan.exists and existing is None:
        try:
            existing = plan.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise TaskError(f"cannot read the test file {plan.path}: {exc}") from None
    return TestRequest(subject=subject, plan=plan, existing=existing, source=source, root=root)


def _fence_closed(text: str) -> int | None:
    """The answer (after the opening fence) ends where its code block closes."""
    at = text.find("\n```")
    return None if at < 0 else at


def chat(request: TestRequest) -> ChatRequest:
    """The chat asking for the tests; the answer is started as a code block of the language
    (so the model writes code, not prose) and ends where the block closes."""
    return ChatRequest(messages=messages(request),
                       max_new_tokens=template("tests").max_new_tokens,
                       prefill=f"```{fence(request.subject.language)}\n", stop=_fence_closed)


def messages(request: TestRequest) -> list[Message]:
    """The chat messages asking for the tests."""
    plan = request.plan
    existing = ""
    if request.existing and request.existing.strip() and plan.path != request.source:
        head = "\n".join(request.existing.splitlines()[:EXISTING_LINES])
        existing = (f"\nThe test file `{plan.path.name}` already starts like this (follow its "
                    f"style, do not repeat its tests):\n```{fence(request.subject.language)}\n"
                    f"{head}\n```\n")
    header = plan.header.strip() or "\n".join(plan.imports)
    return render("tests", framework=plan.framework, header=header, style=plan.style_hint,
                  existing=existing, **values(request.subject))


TEST_PATTERNS = {
    "pytest": r"^\s*(?:async\s+)?def\s+test\w*\s*\(|^\s*class\s+Test\w*",
    "unittest": r"^\s*(?:async\s+)?def\s+test\w*\s*\(",
    "jest": r"\b(?:it|test)(?:\.\w+)?\s*\(",
    "vitest": r"\b(?:it|test)(?:\.\w+)?\s*\(",
    "mocha": r"\bit(?:\.\w+)?\s*\(",
    "node:test": r"\b(?:it|test)(?:\.\w+)?\s*\(",
    "go": r"^func\s+Test\w*\s*\(",
    "rust": r"#\[test\]",
    "junit4": r"@Test\b",
    "junit5": r"@(?:Test|ParameterizedTest)\b",
}
"""What a test looks like in each framework (an answer without one is not a test)."""


def valid(language: str, code: str) -> bool:
    """Whether ``code`` parses: tree-sitter's grammar, and for Python the compiler's too
    (tree-sitter accepts inconsistent indentation that Python rejects)."""
    if parses(language, code) is False:
        return False
    if language == "python":
        try:
            ast.parse(code)
        except (SyntaxError, ValueError):
            return False
    return True


def complete_part(language: str, code: str) -> str:
    """``code`` if it parses; otherwise the longest run of its leading top-level chunks that
    does (an answer cut by the token budget loses its unfinished last test, not all of them)."""
    if valid(language, code):
        return code
    lines = code.split("\n")
    starts = [i for i, line in enumerate(lines) if i and line[:1] not in ("", " ", "\t", ")",
                                                                            "}", "]")]
    for start in reversed(starts):
        head = "\n".join(lines[:start]).rstrip()
        if head and valid(language, head):
            return head
    return code


def _dedupe_python(code: str, existing: str) -> str:
    """Generated Python tests that share a name with an existing one: identical copies are
    dropped, different ones renamed (``test_x`` → ``test_x_2``) so neither shadows the other."""
    taken = set(re.findall(r"^\s*(?:async\s+)?def\s+(test\w*)", existing, re.MULTILINE))
    if not taken:
        return code
    chunks = re.split(r"(?m)^(?=(?:@|async\s+def\s|def\s|class\s))", code)
    kept: list[str] = []
    for chunk in chunks:
        match = re.match(r"(?:@.*\n)*(?:async\s+)?def\s+(test\w*)", chunk)
        if match and match[1] in taken:
            if chunk.strip() in existing:
                continue
            number = 2
            while f"{match[1]}_{number}" in taken:
                number += 1
            taken.add(f"{match[1]}_{number}")
            chunk = chunk.replace(f"def {match[1]}", f"def {match[1]}_{number}", 1)
        kept.append(chunk)
    return "".join(kept)


def tests_code(request: TestRequest, answer: str) -> str:
    """The tests the model wrote, ready to merge: taken out of the answer, completed, and
    (Python) without copies of existing tests.

    Raises TaskError when the answer holds no test or only repeats existing ones.
    """
    subject = request.subject
    code = main_code(answer, fence(subject.language)).strip("\n")
    code = complete_part(subject.language, code)
    pattern = TEST_PATTERNS.get(request.plan.framework)
    if not code.strip() or (pattern and not re.search(pattern, code, re.MULTILINE)):
        raise TaskError(f"the model wrote no {request.plan.framework} tests for "
                        f"{subject.qualified_name!r}; nothing was changed")
    if subject.language == "python" and request.existing:
        code = _dedupe_python(code, request.existing)
        if not code.strip():
            raise TaskError(f"the model only repeated existing tests of "
                            f"{subject.qualified_name!r}; nothing was changed")
    return code


def merged(request: TestRequest, code: str) -> TestResult:
    """The test file with ``code`` merged in.

    Raises TaskError when the result would not parse, or the test file no longer stays inside
    the repository (checked again: the repository may have changed while the model wrote).
    """
    try:
        testlayout.check_target(request.root, request.plan.path)
    except ValueError as exc:
        raise TaskError(str(exc)) from None
    subject = request.subject
    text = testlayout.merge(request.plan, request.existing, code)
    if not valid(subject.language, text):
        raise TaskError(f"the generated tests for {subject.qualified_name!r} do not parse; "
                        "nothing was changed")
    return TestResult(path=request.plan.path, exists=request.plan.exists,
                      before=request.existing or "", text=text)


def finish(request: TestRequest, answer: str) -> TestResult:
    """The test file with the generated tests merged in, unchecked (see :func:`checked`)."""
    return merged(request, tests_code(request, answer))


def _failure_listing(failures: dict[str, str]) -> str:
    """One entry per failing test: its first line, then pytest's detail (the failing line,
    the actual values) indented under it."""
    entries = []
    for test_id, message in failures.items():
        first, *detail = message.splitlines() or ["failed"]
        entries.append("\n".join([f"- `{test_id}`: {first}", *(f"    {line}" for line in detail)]))
    return "\n".join(entries)


def repair_chat(request: TestRequest, code: str, failures: dict[str, str]) -> ChatRequest:
    """The follow-up to the tests chat: the tests as the model wrote them, why each of
    ``failures`` (test id → message) failed when run, and the real signature of the code."""
    language = request.subject.language
    signature = request.subject.target.signature.strip()
    follow = render("tests_repair", failures=_failure_listing(failures), fence=fence(language),
                    framework=request.plan.framework, name=request.subject.qualified_name,
                    signature=signature)[1]
    answer = {"role": "assistant", "content": f"```{fence(language)}\n{code}\n```"}
    return ChatRequest(messages=[*messages(request), answer, follow],
                       max_new_tokens=template("tests_repair").max_new_tokens,
                       prefill=f"```{fence(language)}\n", stop=_fence_closed)
