"""Python docstring conventions: which one a docstring shows, and which one most of a
repository's docstrings follow (``google``, ``numpy``, ``rest`` or ``plain``)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import Literal

Convention = Literal["google", "numpy", "rest", "plain"]
"""A Python docstring convention."""

CONVENTIONS: tuple[Convention, ...] = ("google", "numpy", "rest", "plain")
"""Every convention, in the order that breaks ties in :func:`detect_convention`."""


_NUMPY_RE = re.compile(
    r"^[ \t]*(?:Parameters|Other Parameters|Returns|Yields|Receives|Raises|Warns|Attributes"
    r"|Methods|See Also|Notes|References|Examples)[ \t]*\n[ \t]*-{3,}[ \t]*$",
    re.MULTILINE,
)
_REST_RE = re.compile(
    r"^[ \t]*:(?:param|parameter|arg|argument|key|keyword|type|returns?|rtype|raises?|except"
    r"|exception|yields?|ytype|var|ivar|cvar|vartype)\b[^:\n]*:",
    re.MULTILINE,
)
_GOOGLE_RE = re.compile(
    r"^[ \t]*(?:Args|Arguments|Parameters|Params|Keyword Args|Keyword Arguments|Other Parameters"
    r"|Returns|Return|Yields|Yield|Raises|Attributes|Examples?|Notes?|Todo|Warnings?|Warns"
    r"|See Also|References|Methods)[ \t]*:[ \t]*$",
    re.MULTILINE,
)


def _convention_of(docstring: str) -> Convention:
    """The convention one docstring shows (NumPy, then reST, then Google are looked for)."""
    if _NUMPY_RE.search(docstring):
        return "numpy"
    if _REST_RE.search(docstring):
        return "rest"
    if _GOOGLE_RE.search(docstring):
        return "google"
    return "plain"


def detect_convention(docstrings: Iterable[str]) -> Convention:
    """The convention most of *docstrings* follow: ``google`` (``Args:``/``Returns:``/``Raises:``
    sections), ``numpy`` (``Parameters`` underlined with dashes), ``rest`` (``:param x:``,
    ``:returns:``, ``:raises``) or ``plain``.

    Docstrings that show no convention do not vote; ``plain`` when none shows one.  A tie is
    broken in the order of :data:`CONVENTIONS`: Google, then NumPy, then reST.
    """
    votes = Counter(_convention_of(d) for d in docstrings)
    votes.pop("plain", None)
    if not votes:
        return "plain"
    best = max(votes.values())
    return next(c for c in CONVENTIONS if votes[c] == best)
