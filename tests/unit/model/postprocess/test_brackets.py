"""Filter ``brackets``: close only what the completion opened and the suffix does not close."""

from __future__ import annotations

import pytest

from helpers.marked import ctx_from_marked
from kodama.model.postprocess.brackets import brackets
from kodama.model.types import Mode

CASES: list[tuple[str, str, str | None, Mode, str, str]] = [
    # (id, marked code, language, mode, completion, expected)
    ("py-open-call", "x = █\nprint(x)\n", "python", "single", "foo(a, b", "foo(a, b)"),
    ("py-nested-open", "x = █\n", "python", "single", "foo([1, 2", "foo([1, 2])"),
    ("py-inside-call", "foo(█)\n", "python", "single", "bar(x", "bar(x)"),
    ("py-balanced-unchanged", "x = █\n", "python", "single", "foo(a)", "foo(a)"),
    ("py-suffix-has-extra-closer", "x = █)\n", "python", "single", "foo(a", "foo(a"),
    ("py-bracket-in-string-ignored", "x = █\n", "python", "single", 'f("(", a', 'f("(", a)'),
    ("py-cursor-in-string", 's = "(█"\n', "python", "single", "abc", "abc"),
    (
        "py-closes-prefix-bracket-then-opens",
        "foo(█)\n",
        "python",
        "single",
        "x), bar(y",
        "x), bar(y",
    ),
    (
        "js-block-on-new-line",
        "function f(x) {\n    █\n}\n",
        "javascript",
        "multi",
        "if (x) {\n        g(1",
        "if (x) {\n        g(1)\n    }",
    ),
    (
        "js-comment-bracket-ignored",
        "function f() {\n    █\n}\n",
        "javascript",
        "single",
        "g(1); // (",
        "g(1); // (",
    ),
    (
        "js-template-literal",
        "const s = █;\n",
        "javascript",
        "single",
        "`${a}(` + f(b",
        "`${a}(` + f(b)",
    ),
    ("js-wrong-closer-unchanged", "x = █;\n", "javascript", "single", "f(a]", "f(a]"),
    (
        "go-composite-literal-closed-by-suffix",
        "func f() {\n\tx := []int{█}\n}\n",
        "go",
        "single",
        "1, 2}",
        "1, 2}",
    ),
    (
        "go-open-call",
        "func f() {\n\tx := █\n}\n",
        "go",
        "single",
        "compute(a, b",
        "compute(a, b)",
    ),
    (
        "rust-match-block",
        "fn f<'a>(s: &'a str) -> i32 {\n    let c = '{';\n    █\n}\n",
        "rust",
        "multi",
        'match s {\n        "a" => 1,',
        'match s {\n        "a" => 1,\n    }',
    ),
    (
        "js-closers-before-kept-line-break",
        "run(█);\n",
        "javascript",
        "multi",
        "() => {\n    go(1\n",
        "() => {\n    go(1)\n}\n",
    ),
    ("py-trailing-space-after-closer", "x = █+ 1\n", "python", "single", "f(a ", "f(a) "),
    ("unknown-language-unchanged", "x = █\n", None, "single", "foo(a", "foo(a"),
]


@pytest.mark.parametrize(
    ("code", "language", "mode", "completion", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_brackets(
    code: str, language: str | None, mode: Mode, completion: str, expected: str
) -> None:
    assert brackets(ctx_from_marked(code, language, mode), completion) == expected
