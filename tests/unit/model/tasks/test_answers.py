"""Reading the model's answers: code blocks and Markdown."""

from __future__ import annotations

from kodama.model.tasks.answers import code_blocks, main_code, tidy_markdown
from kodama.model.tasks.templates import fence, render, template


def test_code_blocks_in_order_with_tags() -> None:
    text = "Here:\n```python\nx = 1\n```\nand\n~~~\ny = 2\n~~~\n"
    assert code_blocks(text) == [("python", "x = 1"), ("", "y = 2")]


def test_unclosed_block_runs_to_the_end() -> None:
    assert code_blocks("```go\nfunc F() {\n}\n") == [("go", "func F() {\n}")]


def test_main_code_prefers_the_tagged_then_the_longest_block() -> None:
    text = "```\nshort\n```\n```python\ndef test_a():\n    assert 1\n```\n```\nlonger block\n```"
    assert main_code(text, "python") == "def test_a():\n    assert 1"
    assert main_code(text.replace("python", ""), "rust") == "def test_a():\n    assert 1"
    assert main_code("def test_b():\n    pass\n", "python") == "def test_b():\n    pass"


def test_fence_inside_a_longer_fence_is_code() -> None:
    text = "````markdown\n```python\nx\n```\n````"
    assert code_blocks(text) == [("markdown", "```python\nx\n```")]


def test_tidy_markdown_trims_and_closes_a_cut_fence() -> None:
    assert tidy_markdown("\n\nA  \n\n\n\nB\n```py\nx") == "A\n\nB\n```py\nx\n```"


def test_templates_render_every_placeholder() -> None:
    common = {"kind": "function", "name": "f", "language": "python", "path": "a.py",
              "fence": fence("python"), "code": "def f(): $x", "context": ""}
    explain = render("explain", **common)
    assert [m["role"] for m in explain] == ["system", "user"]
    assert "def f(): $x" in explain[1]["content"], "code with $ stays as it is"
    doc = render("docstring", parameters="P", returns="R", raises="E", **common)
    assert "Args:" in doc[1]["content"] and doc[1]["content"].rstrip().endswith("E")
    tests = render("tests", framework="pytest", header="import f", style="S", existing="",
                   **common)
    assert "pytest" in tests[1]["content"] and "import f" in tests[1]["content"]
    assert template("tests").max_new_tokens > template("docstring").max_new_tokens


def test_missing_placeholder_is_a_key_error() -> None:
    import pytest

    with pytest.raises(KeyError):
        render("explain", kind="function")
