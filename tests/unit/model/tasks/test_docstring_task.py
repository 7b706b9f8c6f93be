"""The docstring task: the answer is started for the model (signature + opening of the
documentation) and ends where the documentation closes; what the model writes becomes a
checked edit."""

from __future__ import annotations

import pytest

from kodama.model.errors import TaskError
from kodama.model.tasks import docstring
from kodama.model.tasks.generate import ChatRequest
from kodama.model.tasks.subject import Subject, subject_at
from kodama.syntax import docstrings
from kodama.syntax.analysis import parses

PY = ("class A:\n    @dec\n    def add(self, a: int,\n            b: int) -> int:\n"
      "        return a + b\n")


def subject(language: str, text: str, marker: str) -> Subject:
    found = subject_at(language, text, text.index(marker), path="f")
    assert found is not None
    return found


def test_python_answer_starts_inside_the_docstring_and_ends_at_its_quotes() -> None:
    request = docstring.request(subject("python", PY, "return"))
    assert request.prefill == ("```python\n    def add(self, a: int,\n            b: int) -> int:\n"
                               '        """')
    answer = 'Add.\n\n        Args:\n            a: x\n        """\n        return a + b\n```'
    assert request.stop(answer) == answer.index('"""')
    assert request.stop("Add two") is None


def test_the_model_answer_becomes_a_docstring_edit_in_the_convention() -> None:
    sub = subject("python", PY, "return")
    answer = ('Add two numbers.\n\n        Args:\n            a: first\n            b: second\n'
              '            c: invented\n\n        Returns:\n            the sum\n        """')
    edit = docstring.finish(sub, answer, "rest")
    text = docstrings.apply(PY, edit)
    assert parses("python", text)
    target = docstrings.targets("python", text)[1]
    assert target.docstring == ("Add two numbers.\n\n:param a: First.\n:param b: Second.\n"
                                ":returns: The sum.")


@pytest.mark.parametrize("answer", ["", '"""', "<one-line summary, imperative mood>.\n\"\"\""])
def test_unusable_answers_are_refused(answer: str) -> None:
    with pytest.raises(TaskError):
        docstring.finish(subject("python", PY, "return"), answer)


def test_go_documentation_is_line_comments_starting_with_the_name() -> None:
    text = "package m\n\nfunc Add(a, b int) int {\n\treturn a + b\n}\n"
    sub = subject("go", text, "return")
    request = docstring.request(sub)
    assert request.prefill.endswith("\n// Add ")
    answer = "adds two ints.\n// It is pure.\nfunc Add(a, b int) int {"
    assert request.stop(answer) == answer.index("\nfunc")
    assert request.stop("adds two ints.\n// It") is None, "an unfinished line may go on"
    result = docstrings.apply(text, docstring.finish(sub, answer))
    assert result.startswith("package m\n\n// Add adds two ints. It is pure.\nfunc Add(")


def test_rust_and_javascript_openings() -> None:
    rust = "pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n"
    request = docstring.request(subject("rust", rust, "a + b"))
    assert request.prefill.endswith("```rust\n/// ")
    assert request.stop("Adds.\n/// More.\npub fn") == len("Adds.\n/// More.")
    js = "export function add(a, b) {\n  return a + b;\n}\n"
    sub = subject("javascript", js, "return")
    request = docstring.request(sub)
    assert request.prefill.endswith("/**\n * ")
    answer = "Add two numbers.\n * @param a first\n * @param b second\n * @returns sum\n */\n"
    assert request.stop(answer) == answer.index("*/")
    result = docstrings.apply(js, docstring.finish(sub, answer))
    assert result.startswith("/**\n * Add two numbers.\n *\n * @param a First.\n")
    assert parses("javascript", result)


def test_a_summary_only_answer_is_followed_up_for_the_missing_sections() -> None:
    text = "def scale(values, factor):\n    return [v * factor for v in values]\n"
    sub = subject("python", text, "return")
    asked: list[str] = []
    answers = iter(["Scale every value.\n    \"\"\"\n", " the numbers.\n        factor: the"
                    " multiplier.\n\n    Returns:\n        The scaled list.\n    \"\"\""])

    def ask(request: ChatRequest) -> str:
        asked.append(request.prefill)
        return next(answers)

    answer = docstring.full_answer(sub, ask)
    assert len(asked) == 2
    assert asked[1].endswith('    """Scale every value.\n\n    Args:\n        values:')
    result = docstrings.apply(text, docstring.finish(sub, answer, "google"))
    assert docstrings.targets("python", result)[0].docstring == (
        "Scale every value.\n\nArgs:\n    values: The numbers.\n    factor: The multiplier.\n\n"
        "Returns:\n    The scaled list.")


def test_no_follow_up_when_nothing_is_missing_or_in_go() -> None:
    text = "def f(a):\n    return a\n"
    sub = subject("python", text, "return")
    assert docstring.follow_up(sub, "Echo.\n\n    Args:\n        a: x.\n\n    Returns:\n"
                                    "        a.\n    \"\"\"") is None
    go = "package m\n\nfunc F(a int) int {\n\treturn a\n}\n"
    assert docstring.follow_up(subject("go", go, "return"), "returns a.\nfunc") is None


DECORATED = ("import os\n\n\n@cache\ndef area(width,\n         height):\n"
             "    return width * height\n")


def test_relocate_finds_the_definition_after_edits_above_it() -> None:
    area = subject("python", DECORATED, "return width")
    moved = "# a new comment\n\n" + DECORATED.replace("import os\n", "import os\nimport sys\n")
    target = docstring.relocate(area, moved)
    assert target is not None and target.name == "area" and target.line == area.target.line + 3
    assert docstring.relocate(area, DECORATED.replace("def area", "def surface")) is None


def test_the_edit_goes_to_the_text_as_it_is_now() -> None:
    area = subject("python", DECORATED, "return width")
    answer = 'Area of a rectangle.\n    """'
    now = "# a new comment\n\n" + DECORATED
    result = docstrings.apply(now, docstring.finish(area, answer, "google", text=now))
    assert result.startswith("# a new comment\n\n") and parses("python", result)
    assert docstrings.targets("python", result)[0].docstring.startswith("Area of a rectangle.")
    with pytest.raises(TaskError, match="no longer in the document"):
        docstring.finish(area, answer, "google", text=DECORATED.replace("def area", "def other"))


def test_the_conversation_sends_each_answer_back_and_returns_the_whole() -> None:
    text = "def scale(values, factor):\n    return [v * factor for v in values]\n"
    steps = docstring.conversation(subject("python", text, "return"))
    first = next(steps)
    follow = steps.send("Scale every value.\n    \"\"\"\n")
    assert first.prefill != follow.prefill
    with pytest.raises(StopIteration) as done:
        steps.send(" the numbers.\n        factor: the multiplier.\n    \"\"\"")
    assert done.value.value.startswith("Scale every value.\n\n    Args:\n        values: the")
