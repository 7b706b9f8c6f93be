"""The ``>>>`` examples of generated docstrings (kodama.model.tasks.doctests): finding and
rewriting them on text, then real runs in a fixture repository with this interpreter."""

from __future__ import annotations

import sys
from pathlib import Path

from kodama.model.config import TestRunConfig
from kodama.model.tasks import doctests

DOC = '''Clamp a value.

Examples:
    >>> clamp(5, 0, 3)
    3
    >>> clamp(-1, 0, 3)
    -1
    >>> x = undefined_name
    >>> clamp(x, 0, 3)
    2
    >>> print(clamp(1, 0, 3)); print(4)
    1

Args:
    value: the value.
'''

SOURCE = ("import sys\n\n\ndef clamp(value, low, high):\n"
          "    return max(low, min(value, high))\n")


def test_examples_are_found_with_their_lines() -> None:
    spans = doctests.examples(DOC)
    assert [(s.start, s.end, s.want) for s in spans] == [
        (3, 5, "3\n"), (5, 7, "-1\n"), (7, 8, ""), (8, 10, "2\n"), (10, 12, "1\n")]
    assert doctests.examples("No examples here.\n") == []


def test_rewrite_fixes_short_stable_outputs_and_removes_the_rest() -> None:
    verdicts = {1: {"outcome": "failed", "got": "0\n"},
                2: {"outcome": "error", "message": "NameError: name 'undefined_name'"},
                3: {"outcome": "failed", "got": "<object at 0x7f00aa>\n"},
                4: {"outcome": "failed", "got": "1\n4\n"}}
    text, notes = doctests.rewrite(DOC, verdicts)
    assert ">>> clamp(-1, 0, 3)\n    0\n" in text and "    -1\n" not in text
    assert "undefined_name" not in text and "clamp(x, 0, 3)" not in text
    assert ">>> print(clamp(1, 0, 3)); print(4)\n    1\n    4\n" in text
    assert text.startswith("Clamp a value.\n\nExamples:\n    >>> clamp(5, 0, 3)\n    3\n")
    assert text.endswith("\nArgs:\n    value: the value.\n")
    assert notes == ["fixed `clamp(-1, 0, 3)` (it gives '0', not '-1')",
                     "removed `x = undefined_name` (NameError: name 'undefined_name')",
                     "removed `clamp(x, 0, 3)` (it gives '<object at 0x7f00aa>')",
                     "fixed `print(clamp(1, 0, 3)); print(4)` (it gives '1\\n4', not '1')"]


def test_removing_every_example_removes_the_section() -> None:
    text = doctests.without_examples(DOC)
    assert text == "Clamp a value.\n\nArgs:\n    value: the value.\n"


def repo(root: Path) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "geo.py").write_text(SOURCE)
    return root / "pkg" / "geo.py"


def test_examples_run_against_the_editors_text_and_wrong_ones_are_mended(tmp_path: Path) -> None:
    source = repo(tmp_path)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    unsaved = SOURCE.replace("max(low, min(value, high))", "max(low, min(value, high)) + 0")
    result = doctests.checked(tmp_path, source, unsaved, "clamp", DOC,
                              TestRunConfig(python=sys.executable))
    assert result.documentation == (
        "Clamp a value.\n\nExamples:\n    >>> clamp(5, 0, 3)\n    3\n    >>> clamp(-1, 0, 3)\n"
        "    0\n    >>> print(clamp(1, 0, 3)); print(4)\n    1\n    4\n\n"
        "Args:\n    value: the value.\n")
    assert result.message.startswith("5 examples checked, 3 kept: fixed `clamp(-1, 0, 3)`")
    assert "removed `x = undefined_name` (NameError" in result.message
    assert "removed `clamp(x, 0, 3)` (NameError" in result.message  # x was never defined
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_examples_that_cannot_be_checked_are_removed(tmp_path: Path) -> None:
    source = repo(tmp_path)
    broken = "import not_a_module_anywhere\n" + SOURCE
    result = doctests.checked(tmp_path, source, broken, "clamp", DOC,
                              TestRunConfig(python=sys.executable))
    assert result.documentation == doctests.without_examples(DOC)
    assert result.message.startswith("examples removed, they could not be checked (the module "
                                     "does not import: ModuleNotFoundError")


def test_an_example_that_reaches_the_network_fails_inside_the_sandbox(tmp_path: Path) -> None:
    source = repo(tmp_path)
    doc = ("Fetch.\n\n>>> import socket\n>>> socket.create_connection(('192.0.2.1', 80), 5)"
           ".close()\n>>> clamp(1, 0, 3)\n1\n")
    result = doctests.checked(tmp_path, source, SOURCE, "clamp", doc,
                              TestRunConfig(python=sys.executable))
    assert "socket.create_connection" not in result.documentation
    assert ">>> clamp(1, 0, 3)\n1\n" in result.documentation
    assert "removed `socket.create_connection" in result.message
    assert "OSError" in result.message or "Errno" in result.message
