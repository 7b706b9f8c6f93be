"""Debounce and "latest request wins", per document.

Every completion request for a document takes a ticket. Taking a ticket sets the cancel event
of the document's previous request, so a generation that is already running stops at its next
token. After the debounce pause a request only goes on if its ticket is still the latest.

The pause adapts to the user's typing pace: a little longer than their recent median gap
between requests (so a fast typist's next keystroke is seen before the model starts), never
longer than the configured debounce and never below ``MIN_DEBOUNCE_MS``.
"""

from __future__ import annotations

import itertools
import statistics
import threading
import time
from collections import deque

MIN_DEBOUNCE_MS = 25
PACE_FACTOR = 1.25
PACE_WINDOW = 8
BURST_GAP_S = 1.0
"""Gaps longer than this are pauses, not typing pace."""


class Scheduler:
    """Per-document tickets and cancel events."""

    def __init__(self) -> None:
        """No requests yet."""
        self._counter = itertools.count(1)
        self._latest: dict[str, int] = {}
        self._cancel: dict[str, threading.Event] = {}
        self._last_at: dict[str, float] = {}
        self._gaps: dict[str, deque[float]] = {}

    def ticket(self, uri: str) -> tuple[int, threading.Event]:
        """A new request for ``uri``: its ticket and the event that cancels its generation."""
        previous = self._cancel.get(uri)
        if previous is not None:
            previous.set()
        now = time.monotonic()
        last = self._last_at.get(uri)
        self._last_at[uri] = now
        if last is not None and now - last < BURST_GAP_S:
            self._gaps.setdefault(uri, deque(maxlen=PACE_WINDOW)).append(now - last)
        number = next(self._counter)
        event = threading.Event()
        self._latest[uri] = number
        self._cancel[uri] = event
        return number, event

    def debounce_ms(self, uri: str, configured_ms: int) -> float:
        """The pause before generating for ``uri``, adapted to the typing pace."""
        gaps = self._gaps.get(uri)
        if not gaps or configured_ms <= MIN_DEBOUNCE_MS:
            return float(configured_ms)
        paced = statistics.median(gaps) * 1000 * PACE_FACTOR
        return max(float(MIN_DEBOUNCE_MS), min(float(configured_ms), paced))

    def is_latest(self, uri: str, number: int) -> bool:
        """Whether no newer request for ``uri`` has arrived."""
        return self._latest.get(uri) == number

    def forget(self, uri: str) -> None:
        """Cancel and drop everything about a closed document."""
        event = self._cancel.pop(uri, None)
        if event is not None:
            event.set()
        self._latest.pop(uri, None)
        self._last_at.pop(uri, None)
        self._gaps.pop(uri, None)
