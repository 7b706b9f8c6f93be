"""Tests for kodama.syntax.testlayout.common: applying edits."""

from __future__ import annotations

import pytest

from kodama.syntax import testlayout
from kodama.syntax.testlayout import apply_edits


def test_apply_edits_rejects_overlaps() -> None:
    edits = [testlayout.Edit(0, 3, "x"), testlayout.Edit(2, 4, "y")]
    with pytest.raises(ValueError, match="overlapping"):
        apply_edits("abcdef", edits)
    assert apply_edits("abcdef", [testlayout.Edit(4, 4, "Z"), testlayout.Edit(0, 1, "")]) \
        == "bcdZef"
