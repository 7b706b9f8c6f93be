"""Type-ahead: when the user types what the current suggestion says, serve the rest at once.

Per document, the last few suggestions are remembered with the text before and after the cursor
at the time. A request whose text after the cursor is unchanged, and whose text before it is
the remembered one plus characters that the suggestion starts with, is answered with the rest
of that suggestion, without debounce and without the model. The same entry answers a repeated
request at the very same position.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

MAX_ENTRIES = 4
"""Suggestions remembered per document."""

MAX_DOCUMENT_CHARS = 500_000
"""Larger documents are not remembered (each entry holds the document's text)."""


@dataclass(frozen=True)
class _Entry:
    prefix: str
    suffix: str
    text: str


class TypeAhead:
    """Remembered suggestions, per document URI."""

    def __init__(self) -> None:
        """Nothing remembered yet."""
        self._entries: dict[str, OrderedDict[tuple[int, int], _Entry]] = {}

    def remember(self, uri: str, prefix: str, suffix: str, text: str) -> None:
        """Remember that ``text`` was suggested between ``prefix`` and ``suffix``."""
        if not text or len(prefix) + len(suffix) > MAX_DOCUMENT_CHARS:
            return
        entries = self._entries.setdefault(uri, OrderedDict())
        key = (len(prefix), len(suffix))
        entries.pop(key, None)
        entries[key] = _Entry(prefix, suffix, text)
        while len(entries) > MAX_ENTRIES:
            entries.popitem(last=False)

    def lookup(self, uri: str, text: str, offset: int) -> str | None:
        """The rest of a remembered suggestion that the document at ``offset`` continues."""
        entries = self._entries.get(uri)
        if not entries:
            return None
        suffix_length = len(text) - offset
        for entry in reversed(entries.values()):
            typed = offset - len(entry.prefix)
            if (
                len(entry.suffix) == suffix_length
                and 0 <= typed < len(entry.text)
                and entry.text.startswith(text[len(entry.prefix):offset])
                and text.startswith(entry.prefix)
                and text.endswith(entry.suffix)
            ):
                rest = entry.text[typed:]
                return rest if rest.strip() else None
        return None

    def forget(self, uri: str) -> None:
        """Drop everything about a closed document."""
        self._entries.pop(uri, None)
