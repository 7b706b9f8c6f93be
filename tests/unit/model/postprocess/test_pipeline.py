"""End-to-end ``postprocess``: raw model output at a marked cursor → the completion offered."""

from __future__ import annotations

import pytest

from helpers.marked import ctx_from_marked
from kodama.model.postprocess import FILTERS, postprocess
from kodama.model.postprocess.brackets import brackets
from kodama.model.postprocess.repetition import repetition
from kodama.model.postprocess.stop_rules import stop_rules
from kodama.model.postprocess.suffix_overlap import suffix_overlap
from kodama.model.postprocess.syntax_truncate import syntax_truncate
from kodama.model.postprocess.trailing_comment import trailing_comment
from kodama.model.postprocess.trim import trim
from kodama.model.types import Mode

GOLDEN: list[tuple[str, str, str | None, Mode, str, str]] = [
    # (id, marked code, language, mode, raw model output, offered completion)
    (
        "py-parens-duplicated-closer",
        "def main():\n    print(█)\n",
        "python",
        "single",
        "total)\n    return 0\n",
        "total",
    ),
    (
        "js-parens-duplicated-closer",
        "function show(total) {\n    console.log(█);\n}\n",
        "javascript",
        "single",
        "total);",
        "total",
    ),
    (
        "py-body-runs-into-new-def",
        "def add(a, b):█\n\n\ndef main():\n    print(add(1, 2))\n",
        "python",
        "multi",
        "\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n",
        "\n    return a + b",
    ),
    (
        "js-block-re-emits-suffix-closer",
        "function add(a, b) {\n    █\n}\n\nmodule.exports = { add };\n",
        "javascript",
        "multi",
        "return a + b;\n}\n\nmodule.exports = { add };\n",
        "return a + b;",
    ),
    (
        "js-inline-block-re-emits-closer",
        "function one() {█}\n",
        "javascript",
        "single",
        " return 1; }",
        " return 1; ",
    ),
    (
        "py-breaks-parsing-file-dropped",
        "def check(x):\n    if x█:\n        return 1\n",
        "python",
        "single",
        " ==",
        "",
    ),
    (
        "py-breaks-parsing-file-cut",
        "def f(x):\n    █\n",
        "python",
        "multi",
        "y = x + 1\n    return y +",
        "y = x + 1",
    ),
    (
        "js-breaks-parsing-file-cut",
        "function f() {\n    █\n}\n",
        "javascript",
        "multi",
        "const a = 1;\n    const b = ;",
        "const a = 1;",
    ),
    (
        "py-equal-to-line-above",
        "def f():\n    x = load(1)\n    █\n    return x\n",
        "python",
        "single",
        "x = load(1)",
        "",
    ),
    (
        "go-call-argument",
        'package main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Println(█)\n}\n',
        "go",
        "single",
        '"hello")\n\tfmt.Println("bye")\n}\n',
        '"hello"',
    ),
    (
        "go-body-closer-missing-at-eof",
        "package main\n\nfunc double(x int) int {█\n",
        "go",
        "multi",
        "\n\treturn 2 * x\n}\n\nfunc triple(x int) int {\n",
        "\n\treturn 2 * x\n}",
    ),
    (
        "rust-macro-closer-in-suffix",
        "fn main() {\n    let v = vec![█];\n}\n",
        "rust",
        "single",
        '1, 2, 3];\n    println!("{:?}", v);\n',
        "1, 2, 3",
    ),
    (
        "rust-open-call-closed",
        "fn main() {\n    let n = █\n}\n",
        "rust",
        "single",
        "compute(1, 2",
        "compute(1, 2)",
    ),
    ("whitespace-only", "x = █\n", "python", "single", " \n", ""),
    (
        "js-syntax-cut-exposes-suffix-duplicate",
        "function f(times) {\n    for (let i = 0; i < time█s; i++) {\n    }\n}\n",
        "javascript",
        "single",
        "s Greeter ",
        "",
    ),
    (
        "unknown-language-still-trimmed",
        "hello █\n",
        None,
        "single",
        "world  \nagain",
        "world",
    ),
]


@pytest.mark.parametrize(
    ("code", "language", "mode", "raw", "expected"),
    [case[1:] for case in GOLDEN],
    ids=[case[0] for case in GOLDEN],
)
def test_postprocess_golden(
    code: str, language: str | None, mode: Mode, raw: str, expected: str
) -> None:
    assert postprocess(ctx_from_marked(code, language, mode), raw) == expected


def test_filter_order() -> None:
    assert [stop_rules, trim, trailing_comment, suffix_overlap, repetition, brackets,
            syntax_truncate] == FILTERS


def test_empty_result_stops_the_pipeline(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    def spy(ctx: object, text: str) -> str:
        seen.append(text)
        return text

    monkeypatch.setattr("kodama.model.postprocess.FILTERS", [lambda ctx, text: "  ", spy])
    assert postprocess(ctx_from_marked("x = █", "python"), "1") == ""
    assert seen == []
