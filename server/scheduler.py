"""Debounce and "latest request wins", per document.

Every completion request for a document takes a ticket. Taking a ticket sets the cancel event
of the document's previous request, so a generation that is already running stops at its next
token. After the debounce pause a request only goes on if its ticket is still the latest.
"""

from __future__ import annotations

import itertools
import threading


class Scheduler:
    """Per-document tickets and cancel events."""

    def __init__(self) -> None:
        """No requests yet."""
        self._counter = itertools.count(1)
        self._latest: dict[str, int] = {}
        self._cancel: dict[str, threading.Event] = {}

    def ticket(self, uri: str) -> tuple[int, threading.Event]:
        """A new request for ``uri``: its ticket and the event that cancels its generation."""
        previous = self._cancel.get(uri)
        if previous is not None:
            previous.set()
        number = next(self._counter)
        event = threading.Event()
        self._latest[uri] = number
        self._cancel[uri] = event
        return number, event

    def is_latest(self, uri: str, number: int) -> bool:
        """Whether no newer request for ``uri`` has arrived."""
        return self._latest.get(uri) == number

    def forget(self, uri: str) -> None:
        """Cancel and drop everything about a closed document."""
        event = self._cancel.pop(uri, None)
        if event is not None:
            event.set()
        self._latest.pop(uri, None)
