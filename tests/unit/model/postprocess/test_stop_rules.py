"""Filter ``stop_rules``: the streaming rules applied to a finished text, last line included."""

from __future__ import annotations

import pytest

from helpers.marked import ctx_from_marked
from kodama.model.postprocess.stop_rules import stop_rules
from kodama.model.types import Mode

CASES: list[tuple[str, str, str | None, Mode, str, str]] = [
    # (id, marked code, language, mode, completion, expected)
    (
        "py-last-line-dedent-judged",
        "def add(a, b):█\n",
        "python",
        "multi",
        "\n    return a + b\ndef sub(a, b):",
        "\n    return a + b",
    ),
    (
        "js-last-line-closer-in-suffix",
        "function f(a) {█\n}\n",
        "javascript",
        "multi",
        "\n    return a;\n}",
        "\n    return a;",
    ),
    (
        "go-last-line-closer-missing",
        "func f() int {█\n",
        "go",
        "multi",
        "\n\treturn 1\n}",
        "\n\treturn 1\n}",
    ),
    ("single-first-line", "x = █\n", "python", "single", "1\ny = 2", "1"),
    (
        "rust-no-rule-fires",
        "fn f() -> i32 {\n    █\n}\n",
        "rust",
        "multi",
        "let a = 1;\n    a + 1",
        "let a = 1;\n    a + 1",
    ),
    (
        "no-line-limit-here",
        "def f():\n    █\n",
        "python",
        "multi",
        "\n    ".join(f"v{i} = {i}" for i in range(40)),
        "\n    ".join(f"v{i} = {i}" for i in range(40)),
    ),
]


@pytest.mark.parametrize(
    ("code", "language", "mode", "completion", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_stop_rules(
    code: str, language: str | None, mode: Mode, completion: str, expected: str
) -> None:
    assert stop_rules(ctx_from_marked(code, language, mode), completion) == expected
