"""Filter ``suffix_overlap``: the end of the completion that the suffix already holds goes."""

from __future__ import annotations

import pytest

from helpers.marked import ctx_from_marked
from kodama.model.postprocess.suffix_overlap import suffix_overlap
from kodama.model.types import Mode

CASES: list[tuple[str, str, str | None, Mode, str, str]] = [
    # (id, marked code, language, mode, completion, expected)
    ("py-duplicated-closer", "print(█)\n", "python", "single", "x)", "x"),
    ("py-own-closer-kept", "print(█)\n", "python", "single", "f(x)", "f(x)"),
    ("py-extra-closer", "print(█)\n", "python", "single", "f(x))", "f(x)"),
    ("py-longer-overlap", "foo(█, b)\n", "python", "single", "a, b)", "a"),
    ("py-word-not-split", "x = █bar\n", "python", "single", "foo_b", "foo_b"),
    ("py-overlap-after-space", "if █ is None:\n", "python", "single", "x is None:", "x"),
    (
        "py-whole-completion-is-next-line",
        "def f():\n    █\n    return 1\n",
        "python",
        "multi",
        "return 1",
        "",
    ),
    (
        "py-cursor-line-part-not-compared",
        "def f():\n    x = █\n    y = 1\n",
        "python",
        "multi",
        "1\n    y = 1",
        "1",
    ),
    (
        "js-block-re-emits-closer",
        "function add(a, b) {\n    █\n}\n",
        "javascript",
        "multi",
        "return a + b;\n}",
        "return a + b;",
    ),
    (
        "js-own-closer-same-text-kept",
        "if (a) {\n█\n}\n",
        "javascript",
        "multi",
        "if (b) {\n    c();\n}",
        "if (b) {\n    c();\n}",
    ),
    ("js-closer-and-semicolon", "run(() => {█});\n", "javascript", "single", " go() });", " go() "),
    (
        "go-last-lines-equal-suffix",
        "func f() int {\n\tx := 1\n\t█\n\treturn x\n}\n",
        "go",
        "multi",
        "x++\n\treturn x\n}",
        "x++",
    ),
    (
        "go-indentation-differs-kept",
        "func f() int {\n\tx := 1\n\t█\n\treturn x\n}\n",
        "go",
        "multi",
        "x++\n    return x",
        "x++\n    return x",
    ),
    ("rust-string-closer", 'let s = "█";\n', "rust", "single", 'hi";', "hi"),
    (
        "rust-lifetime-ignored",
        "fn f<'a>(s: &'a str█) {}\n",
        "rust",
        "single",
        ", t: &'a str)",
        ", t: &'a str",
    ),
    ("no-overlap", "x = █\n", "python", "single", "compute()", "compute()"),
]


@pytest.mark.parametrize(
    ("code", "language", "mode", "completion", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_suffix_overlap(
    code: str, language: str | None, mode: Mode, completion: str, expected: str
) -> None:
    assert suffix_overlap(ctx_from_marked(code, language, mode), completion) == expected


def test_closer_on_its_own_line_keeps_the_line_break() -> None:
    ctx = ctx_from_marked("items = [█]\n", "python", "multi")
    assert suffix_overlap(ctx, "\n    1,\n    2,\n]") == "\n    1,\n    2,\n"
