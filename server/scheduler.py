"""Debounce and "latest request wins", per document.

Every completion request for a document takes a ticket. After the debounce pause a request only
goes on if its ticket is still the latest. (Whether a generation that is already running stops
or goes on for the newer request is ``kodama.server.inflight``'s call.)

The pause adapts to the user's typing pace: a little longer than their recent median gap
between requests (so a fast typist's next keystroke is seen before the model starts), never
longer than the configured debounce and never below ``MIN_DEBOUNCE_MS``.
"""

from __future__ import annotations

import itertools
import statistics
import time
from collections import deque

MIN_DEBOUNCE_MS = 25
PACE_FACTOR = 1.25
PACE_WINDOW = 8
BURST_GAP_S = 1.0
"""Gaps longer than this are pauses, not typing pace."""


class Scheduler:
    """Per-document tickets and typing pace."""

    def __init__(self) -> None:
        """No requests yet."""
        self._counter = itertools.count(1)
        self._latest: dict[str, int] = {}
        self._last_at: dict[str, float] = {}
        self._gaps: dict[str, deque[float]] = {}

    def ticket(self, uri: str) -> int:
        """A new request for ``uri``: its ticket (which supersedes every earlier one)."""
        now = time.monotonic()
        last = self._last_at.get(uri)
        self._last_at[uri] = now
        if last is not None and now - last < BURST_GAP_S:
            self._gaps.setdefault(uri, deque(maxlen=PACE_WINDOW)).append(now - last)
        number = next(self._counter)
        self._latest[uri] = number
        return number

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
        """Drop everything about a closed document."""
        self._latest.pop(uri, None)
        self._last_at.pop(uri, None)
        self._gaps.pop(uri, None)
