"""Filter ``repetition``: a completion that repeats the line above or what follows is dropped."""

from __future__ import annotations

import pytest

from helpers.marked import ctx_from_marked
from kodama.model.postprocess.repetition import repetition
from kodama.model.types import Mode

CASES: list[tuple[str, str, str | None, Mode, str, str]] = [
    # (id, marked code, language, mode, completion, expected)
    ("py-repeats-line-above", "x = foo(1)\n█\n", "python", "single", "x = foo(1)", ""),
    (
        "py-repeats-line-above-past-blank",
        "def f():\n    x = foo(1)\n\n    █\n",
        "python",
        "single",
        "x = foo(1)",
        "",
    ),
    ("py-typed-start-completes-same-line", "x = foo(1)\nx = foo(█\n", "python", "single", "1)", ""),
    (
        "py-different-line-kept",
        "x = foo(1)\n█\n",
        "python",
        "single",
        "y = foo(2)",
        "y = foo(2)",
    ),
    (
        "py-indentation-differs-kept",
        "if a:\n    x = 1\n█\n",
        "python",
        "single",
        "x = 1",
        "x = 1",
    ),
    (
        "js-repeats-two-lines-above",
        "a();\nb();\n█\n",
        "javascript",
        "multi",
        "a();\nb();",
        "",
    ),
    ("js-closer-lines-kept", "    }\n█\n", "javascript", "single", "}", "}"),
    (
        "go-equals-text-that-follows",
        "func f() {\n\t█\n\treturn\n}\n",
        "go",
        "multi",
        "return\n}",
        "",
    ),
    (
        "rust-equals-following-whitespace-aside",
        "fn f() {\n    █\n    g(1,\n      2);\n}\n",
        "rust",
        "multi",
        "g(1, 2);",
        "",
    ),
    (
        "rust-prefix-of-a-longer-word-kept",
        "fn f() {\n    █\n    retry();\n}\n",
        "rust",
        "single",
        "ret",
        "ret",
    ),
    ("blank-dropped", "x = █\n", "python", "single", "  ", ""),
]


@pytest.mark.parametrize(
    ("code", "language", "mode", "completion", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_repetition(
    code: str, language: str | None, mode: Mode, completion: str, expected: str
) -> None:
    assert repetition(ctx_from_marked(code, language, mode), completion) == expected
