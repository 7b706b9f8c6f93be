"""Filter ``syntax_truncate``: the longest cut that keeps the document parsing (tree-sitter)."""

from __future__ import annotations

import importlib

import pytest

from helpers.marked import ctx_from_marked
from kodama.model.postprocess.syntax_truncate import (
    MAX_PARSES,
    MIN_PARSES,
    candidates,
    parse_budget,
    syntax_truncate,
)
from kodama.model.types import Mode

CASES: list[tuple[str, str, str | None, Mode, str, str]] = [
    # (id, marked code, language, mode, completion, expected)
    (
        "py-cut-at-line-end",
        "def f(x):\n    █\n",
        "python",
        "multi",
        "y = x + 1\n    return y +",
        "y = x + 1",
    ),
    ("py-cut-at-token", "x = foo(█)\n", "python", "single", "a, b +", "a, b"),
    # A MISSING name is a hole in the code, not a terminator still to come: nothing of
    # ``_ import ()`` leaves the import whole, so nothing is offered.
    ("py-empty-import-list-dropped", "from attr.█\nfrom attr._next_gen import asdict\n",
     "python", "single", "_ import ()", ""),
    # The suffix closes a call the hole opened: the cut that leaves it open wins.
    ("py-call-left-open-for-the-suffix",
     "def setup():\n    settings█\n        deadline=1,\n    )\n",
     "python", "single", '.load_profile("patience")', ".load_profile("),
    ("py-call-closed-when-the-suffix-does-not",
     "def setup():\n    settings█\n    return 1\n",
     "python", "single", '.load_profile("patience")', '.load_profile("patience")'),
    ("py-import-list-kept", "from attr.█\nfrom attr._next_gen import asdict\n",
     "python", "single", "_make import Factory", "_make import Factory"),
    (
        "py-call-closed-too-early-cut-at-token",
        'app = Flask(\n    "name",\n    template_folder=█\n    static_folder="s",\n)\n',
        "python",
        "single",
        '"templates", static_folder="static")  # the folder',
        '"templates",',
    ),
    ("py-nothing-qualifies", "if x█:\n    pass\n", "python", "single", " ==", ""),
    ("py-valid-unchanged", "x = foo(█)\n", "python", "single", "a, b", "a, b"),
    (
        "py-hole-mid-statement-filled",
        "x = █\nprint(x)\n",
        "python",
        "single",
        "compute(1)",
        "compute(1)",
    ),
    (
        "py-broken-file-no-new-errors",
        "def g(:\n    pass\n\nx = foo(█)\n",
        "python",
        "single",
        "a, b +",
        "a, b",
    ),
    (
        "js-cut-before-open-block",
        "function f() {\n    █\n}\n",
        "javascript",
        "multi",
        "const a = 1;\n    if (a) {",
        "const a = 1;",
    ),
    (
        "go-cut-before-open-block",
        "package main\n\nfunc main() {\n\tx := 1\n\t█\n}\n",
        "go",
        "multi",
        "println(x)\n\tfor {",
        "println(x)",
    ),
    (
        "rust-cut-in-macro",
        "fn main() {\n    let v = vec![█];\n}\n",
        "rust",
        "single",
        "1, 2, (3",
        "1, 2,",
    ),
    ("unknown-language-none", "x = █\n", None, "single", "(((", "((("),
    ("unknown-language-id", "x = █\n", "cobol", "single", "(((", "((("),
]


@pytest.mark.parametrize(
    ("code", "language", "mode", "completion", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_syntax_truncate(
    code: str, language: str | None, mode: Mode, completion: str, expected: str
) -> None:
    assert syntax_truncate(ctx_from_marked(code, language, mode), completion) == expected


def test_candidates_longest_first() -> None:
    text = "a = 1\n    b = f(x)\n    c"
    assert list(candidates(text)) == [
        text,
        "a = 1\n    b = f(x)",
        "a = 1",
        "a =",
        "a",
    ]


def test_parses_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def never_parses(language: str, text: str) -> int:
        calls.append(text)
        return 0 if len(calls) == 1 else 1  # the file parsed before, no candidate does

    def one_error(language: str, text: str) -> list[tuple[int, int, bool]]:
        return [(0, 0, False)] * never_parses(language, text)

    # The package exports the filter functions under their modules' names: fetch the module.
    module = importlib.import_module("kodama.model.postprocess.syntax_truncate")
    monkeypatch.setattr(module, "error_rows", one_error)
    ctx = ctx_from_marked("def f():\n    █\n", "python", "multi")
    completion = "\n".join(f"    v{i} = compute({i}, {i + 1}, {i + 2})" for i in range(40))
    assert syntax_truncate(ctx, completion.lstrip()) == ""
    assert len(calls) == MAX_PARSES


def test_parse_budget_shrinks_with_document_size() -> None:
    assert parse_budget(10_000) == MAX_PARSES
    assert parse_budget(400_000) == 10
    assert parse_budget(50_000_000) == MIN_PARSES
    assert parse_budget(0) == MAX_PARSES


def test_big_document_gets_fewer_parses(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def never_parses(language: str, text: str) -> int:
        calls.append(len(text))
        return 0 if len(calls) == 1 else 1

    def one_error(language: str, text: str) -> list[tuple[int, int, bool]]:
        return [(0, 0, False)] * never_parses(language, text)

    module = importlib.import_module("kodama.model.postprocess.syntax_truncate")
    monkeypatch.setattr(module, "error_rows", one_error)
    filler = "x = 1\n" * 100_000  # 600 000 characters
    ctx = ctx_from_marked(filler + "def f():\n    █\n", "python", "multi")
    completion = "\n    ".join(f"v{i} = g({i})" for i in range(40))
    assert syntax_truncate(ctx, completion) == ""
    assert len(calls) == parse_budget(len(ctx.prefix) + len(completion) + len(ctx.suffix))
    assert MIN_PARSES <= len(calls) < MAX_PARSES


UNFINISHED: list[tuple[str, str, str | None, Mode, str, str]] = [
    (
        "java-unfinished-file-keeps-whole-block",
        "class A {\n    void f(int n) {\n        for (i█\n",
        "java",
        "multi",
        "nt i = 0; i < n; i++) {\n            g(i);\n        }",
        "nt i = 0; i < n; i++) {\n            g(i);\n        }",
    ),
    (
        "js-unfinished-file-own-open-block-cut",
        "function f(xs) {\n  █\n",
        "javascript",
        "multi",
        "const n = xs.length;\n  if (n) {",
        "const n = xs.length;",
    ),
    (
        "go-unfinished-file-closing-it-is-fine",
        "package main\n\nfunc main() {\n\tx := 1█\n",
        "go",
        "multi",
        "\n\tprintln(x)\n}",
        "\n\tprintln(x)\n}",
    ),
    (
        "rust-open-bracket-mid-file-is-not-unfinished",
        "fn g(a: i32 {\n}\n\nfn main() {\n    let v = f(█);\n}\n",
        "rust",
        "single",
        "1, 2 +",
        "1, 2",
    ),
]


@pytest.mark.parametrize(
    ("code", "language", "mode", "completion", "expected"),
    [case[1:] for case in UNFINISHED],
    ids=[case[0] for case in UNFINISHED],
)
def test_unfinished_file(
    code: str, language: str | None, mode: Mode, completion: str, expected: str
) -> None:
    assert syntax_truncate(ctx_from_marked(code, language, mode), completion) == expected


def test_a_completion_that_leaves_the_hole_broken_is_dropped() -> None:
    # Seen in flask: after "@" the model wrote "@admin.route(...)", giving "@@".
    ctx = ctx_from_marked('@█\ndef index():\n    return "hi"\n', "python")
    assert syntax_truncate(ctx, '@admin.route("/index3")') == ""
    # An error elsewhere in the file does not block a good completion here, nor one that
    # keeps the count but writes no broken line (a name after a complete call).
    ctx = ctx_from_marked("x = = 1\n\ndef f(a):\n    return a.█\n", "python")
    assert syntax_truncate(ctx, "upper()") == "upper()"
    ctx = ctx_from_marked("x = = 1\n\ndef f(a):\n    return a.upper()█\n", "python")
    assert syntax_truncate(ctx, " + 1") == " + 1"
