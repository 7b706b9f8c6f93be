"""Tests for kodama.syntax.docstrings.conventions: which docstring convention a repository uses."""

from __future__ import annotations

import pytest

from kodama.syntax import docstrings
from kodama.syntax.docstrings import detect_convention, python_docstrings

# ------------------------------------------------------------------ conventions
GOOGLE = "Sum.\n\nArgs:\n    a: First.\n\nReturns:\n    The sum."
GOOGLE_RAISES = "Check.\n\nRaises:\n    ValueError: When bad."
NUMPY = "Sum.\n\nParameters\n----------\na : int\n    First.\n\nReturns\n-------\nint"
REST = "Sum.\n\n:param a: First.\n:returns: The sum.\n:raises ValueError: When bad."
PLAIN = "Just prose, with a colon: here."


@pytest.mark.parametrize(
    ("docs", "expected"),
    [
        ([GOOGLE], "google"),
        ([GOOGLE_RAISES], "google"),
        ([NUMPY], "numpy"),
        ([REST], "rest"),
        ([PLAIN], "plain"),
        ([], "plain"),
        ([PLAIN, PLAIN, PLAIN, REST], "rest"),  # plain docstrings do not vote
        ([GOOGLE, NUMPY, NUMPY, REST], "numpy"),
        ([REST, GOOGLE, REST, GOOGLE_RAISES, REST], "rest"),
        ([NUMPY, GOOGLE], "google"),  # ties: google, then numpy, then rest
        ([REST, NUMPY], "numpy"),
        ([REST, GOOGLE, NUMPY], "google"),
    ],
)
def test_detect_convention(docs: list[str], expected: str) -> None:
    assert detect_convention(docs) == expected
    assert detect_convention(iter(docs)) == expected  # any iterable, read once


def test_detect_convention_from_files() -> None:
    numpy_file = f'def f(a):\n    """{NUMPY}\n    """\n\ndef g():\n    """{PLAIN}"""\n'
    google_file = f'def h(a):\n    """{GOOGLE}\n    """\n'
    found = python_docstrings(numpy_file) + python_docstrings(numpy_file)
    found += python_docstrings(google_file)
    assert detect_convention(found) == "numpy"
    assert docstrings.CONVENTIONS == ("google", "numpy", "rest", "plain")
