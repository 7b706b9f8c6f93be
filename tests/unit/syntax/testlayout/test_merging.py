"""Tests for kodama.syntax.testlayout.merging: line endings and blank existing files."""

from __future__ import annotations

from pathlib import Path

from kodama.syntax import testlayout
from kodama.syntax.analysis import parses
from kodama.syntax.testlayout import merge, merge_edits

from .repo import EXISTING_PY, python_plan


def test_merge_keeps_crlf_line_endings(tmp_path: Path) -> None:
    plan = python_plan(tmp_path)
    existing = EXISTING_PY.replace("\n", "\r\n")
    text = merge(plan, existing, "import os\n\ndef test_new():\n    assert os.sep\n")
    assert "\r\n" in text
    assert "\n" not in text.replace("\r\n", "")
    assert "import os\r\n" in text
    assert parses("python", text)


def test_merge_into_blank_existing_file_is_a_new_file(tmp_path: Path) -> None:
    plan = python_plan(tmp_path)
    result = merge_edits(plan, "\n\n", "def test_new():\n    assert Foo()\n")
    assert result.text.startswith("from pkg.mod import Foo\n")
    assert result.edits == (testlayout.Edit(0, 2, result.text),)

