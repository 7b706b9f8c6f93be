"""The "tests" task: unit tests for a function, method or class, in the repository's own
framework and layout, merged into the right test file (created when missing) with the imports
the tests need, and checked to parse."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kodama.model.errors import TaskError
from kodama.model.tasks.answers import main_code
from kodama.model.tasks.generate import ChatRequest
from kodama.model.tasks.subject import Subject, values
from kodama.model.tasks.templates import Message, fence, render, template
from kodama.syntax import docstrings, testlayout
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


@dataclass(frozen=True)
class TestResult:
    """The test file after the change."""

    path: Path
    exists: bool
    before: str
    """Its text before ('' for a new file)."""
    text: str


def symbol_of(subject: Subject) -> str:
    """What the tests import: the definition, or ``Class.method`` for a method."""
    if subject.kind != "method":
        return subject.name
    owners = [t for t in docstrings.targets(subject.language, subject.text)
              if t.kind == "class" and t.start_byte <= subject.target.start_byte
              and subject.target.end_byte <= t.end_byte]
    if not owners:
        return subject.name
    return f"{owners[-1].name}.{subject.name}"


def prepare(subject: Subject, root: Path, source: Path,
            open_text: Callable[[Path], str | None]) -> TestRequest:
    """Plan where the tests go; ``open_text`` gives an editor's unsaved text of a file.

    Raises TaskError for a language without a known test framework.
    """
    try:
        plan = testlayout.plan_tests(root, source, subject.language, symbol_of(subject))
    except ValueError as exc:
        raise TaskError(str(exc)) from None
    existing = open_text(plan.path) if plan.exists else None
    if plan.exists and existing is None:
        try:
            existing = plan.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise TaskError(f"cannot read the test file {plan.path}: {exc}") from None
    return TestRequest(subject=subject, plan=plan, existing=existing, source=source)


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


def finish(request: TestRequest, answer: str) -> TestResult:
    """The test file with the generated tests merged in.

    Raises TaskError when the answer has no code or the result would not parse.
    """
    subject = request.subject
    code = main_code(answer, fence(subject.language)).strip("\n")
    if not code.strip():
        raise TaskError(f"the model wrote no tests for {subject.name!r}")
    before = request.existing or ""
    text = testlayout.merge(request.plan, request.existing, code)
    if parses(subject.language, text) is False:
        raise TaskError(f"the generated tests for {subject.name!r} do not parse; "
                        "nothing was changed")
    return TestResult(path=request.plan.path, exists=request.plan.exists, before=before, text=text)
