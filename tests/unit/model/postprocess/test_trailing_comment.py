"""Filter ``trailing_comment``: no invented comment at the end of a single-line completion."""

from __future__ import annotations

import pytest

from helpers.marked import ctx_from_marked
from kodama.model.postprocess import postprocess
from kodama.model.postprocess.trailing_comment import trailing_comment
from kodama.model.types import Mode

CASES: list[tuple[str, str, str | None, Mode, str, str]] = [
    # (id, marked code, language, mode, completion, expected)
    ("python-remark-dropped", "assert x == x.█\n", "python", "single",
     "lower()  # Ensure the IDs are in lowercase.  # noqa: E501", "lower()"),
    ("pragma-dropped", 'if __name__ █\n', "python", "single",
     '== "__main__":  # pragma: no cover', '== "__main__":'),
    ("js-remark-dropped", "const total = █\n", "javascript", "single",
     "a + b; // sum", "a + b;"),
    ("hash-in-string-kept", "color = █\n", "python", "single", '"#fff"', '"#fff"'),
    ("url-in-js-string-kept", "const url = █\n", "javascript", "single",
     '"http://example.com";', '"http://example.com";'),
    ("only-a-comment-kept", "x = 1  █\n", "python", "single", "# the answer", "# the answer"),
    ("comment-typed-before-kept", "x = 1  # see █\n", "python", "single",
     "issue 12", "issue 12"),
    ("string-opened-before-cursor", 'name = "a █\n', "python", "single",
     '# b"', '# b"'),
    ("inside-docstring-kept", 'def f():\n    """Count the █\n', "python", "single",
     "items  # of them", "items  # of them"),
    ("multi-mode-unchanged", "def f():\n    █\n", "python", "multi",
     "return 1  # one", "return 1  # one"),
    ("unknown-language-unchanged", "x = █\n", None, "single", "1  # one", "1  # one"),
]


@pytest.mark.parametrize(
    ("code", "language", "mode", "completion", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_trailing_comment(code: str, language: str | None, mode: Mode, completion: str,
                          expected: str) -> None:
    assert trailing_comment(ctx_from_marked(code, language, mode), completion) == expected


def test_pipeline_drops_the_remark_and_keeps_the_code() -> None:
    ctx = ctx_from_marked("value = canonicalize_name█\n", "python", "single")
    assert postprocess(ctx, "(name_part)  # This is taken from PEP 503.") == "(name_part)"
