"""Tests for kodama.syntax.testlayout.splice: the text surgery merging is made of."""

from __future__ import annotations

from kodama.syntax.testlayout import Edit
from kodama.syntax.testlayout.splice import (
    append,
    clean_body,
    combine,
    cut,
    indent,
    insert_after_line,
    strip_fences,
)


def test_strip_fences_only_around_everything() -> None:
    assert strip_fences("```python\nx = 1\n```\n") == "x = 1"
    assert strip_fences("  ```\ny\n```") == "y"
    assert strip_fences("a\n```\nb\n```\n") == "a\n```\nb\n```\n"


def test_cut_drops_the_lines_it_empties() -> None:
    text = "import a\nimport b;\nx = 1  # keep\n"
    assert cut(text, [(0, 8), (9, 17)]) == "x = 1  # keep\n"
    assert cut(text, [(19, 24)]) == "import a\nimport b;\n  # keep\n"


def test_clean_body_dedents_and_trims() -> None:
    assert clean_body("\n\n    a  \n\n\n\n\n    b\n\n") == "a\n\n\nb"


def test_insert_after_line_and_append() -> None:
    assert insert_after_line("a\nb\n", 0, ["x", "y"]) == Edit(2, 2, "x\ny\n")
    assert insert_after_line("a", 0, ["x"]) == Edit(1, 1, "\nx")  # no newline after the node
    assert insert_after_line("a\n", 0, []) is None
    assert append("a\n\n\n", "b", "\n\n") == Edit(1, 4, "\n\nb\n")
    assert append("a", "", "\n\n") == Edit(1, 1, "\n")


def test_indent_leaves_blank_lines_empty() -> None:
    assert indent("a\n\n  b", "    ") == "    a\n\n      b"


def test_combine_joins_inserts_at_one_offset_and_converts_newlines() -> None:
    edits = combine([Edit(5, 5, "b\n"), Edit(0, 0, "a\n"), Edit(5, 5, "c\n"), Edit(7, 7, "")],
                    "\r\n")
    assert edits == (Edit(0, 0, "a\r\n"), Edit(5, 5, "b\r\nc\r\n"))
