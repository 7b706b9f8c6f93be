"""Filter ``trim``: first line only in single mode, no trailing whitespace or blank lines."""

from __future__ import annotations

import pytest

from helpers.marked import ctx_from_marked
from kodama.model.postprocess.trim import trim
from kodama.model.types import Mode

CASES: list[tuple[str, str, str | None, Mode, str, str]] = [
    # (id, marked code, language, mode, completion, expected)
    ("single-first-line-only", "x = █\n", "python", "single", "foo(1)  \nbar(2)\n", "foo(1)"),
    ("single-leading-newline", "def f():█\n", "python", "single", "\n    return 1", ""),
    ("whitespace-only", "x = █\n", "python", "multi", "  \n\t\n", ""),
    (
        "multi-trailing-blank-lines",
        "def f():█\n",
        "python",
        "multi",
        "\n    a = 1   \n    return a\t\n\n\n",
        "\n    a = 1\n    return a",
    ),
    (
        "multi-keeps-leading-newline",
        "fn main() {█\n}\n",
        "rust",
        "multi",
        "\n    run();\n",
        "\n    run();",
    ),
    (
        "space-dropped-before-closer",
        "console.log(█);\n",
        "javascript",
        "single",
        "total  ",
        "total",
    ),
    ("space-kept-before-operand", "x = █+ 1\n", "python", "single", "a ", "a "),
    (
        "one-newline-kept-before-suffix-text",
        "foo(█)\n",
        "python",
        "multi",
        "\n    a,\n    b,\n\n\n",
        "\n    a,\n    b,\n",
    ),
    (
        "indent-kept-before-suffix-text",
        "func f() {\n\tg(█)\n}\n",
        "go",
        "multi",
        "\n\t\ta,  \n\t",
        "\n\t\ta,\n\t",
    ),
]


@pytest.mark.parametrize(
    ("code", "language", "mode", "completion", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_trim(code: str, language: str | None, mode: Mode, completion: str, expected: str) -> None:
    assert trim(ctx_from_marked(code, language, mode), completion) == expected
