"""The completion menu item: its one-line label."""

from __future__ import annotations

from kodama.server.completion_menu import label_for


def test_menu_label() -> None:
    assert label_for("x + 1") == "x + 1"
    assert label_for("if x:\n    y()") == "if x:…"
