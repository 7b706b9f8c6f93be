"""Completions being generated, per document, and re-targeting them while the user types.

A completion is generated for one document state: the text before and after the cursor. The
user goes on typing meanwhile. A keystroke whose text after the cursor is unchanged, whose text
before it is the old one plus characters that agree with what the model has written so far
(``agrees``), does not restart anything: the generation keeps running, the new request waits
for it and answers with its text after the typed characters. A keystroke that disagrees (or
deletes, or moves the cursor) stops the generation at its next token, as ``$/cancelRequest``
used to. The generation is also stopped at its next token as soon as the model writes
something the user has already typed differently.

State only, no asyncio or LSP logic: ``suggest`` creates the tasks that run flights (and
keeps those that may start one later in :attr:`Flights.pending`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


def agrees(written: str, typed: str) -> bool:
    """Whether the model's ``written`` text and the user's ``typed`` text can still be the
    same text: one is a prefix of the other."""
    return written.startswith(typed) or typed.startswith(written)


def rest_after(text: str, typed: str) -> str:
    """What ``text`` suggests once ``typed`` is in the document: the rest after it, or '' when
    ``text`` does not start with it or nothing but whitespace is left."""
    if not text.startswith(typed):
        return ""
    rest = text[len(typed):]
    return rest if rest.strip() else ""


@dataclass(eq=False)
class Flight:
    """One generation for one document state; also its cancellation (``is_set``)."""

    prefix: str
    """The document's text before the cursor when the generation was asked for."""
    suffix: str
    """The text after the cursor."""
    task: Any = None
    """What runs it (an ``asyncio.Task`` whose result is the ``Completion``), set by the owner."""
    written: str = ""
    """The model's text so far (``watch`` keeps it up to date from the model thread)."""
    typed: str = ""
    """What the latest request that follows this flight has typed since it started."""
    stopped: bool = False

    def is_set(self) -> bool:
        """Whether the generation should stop at its next token: stopped, or the model wrote
        something other than what the user typed."""
        return self.stopped or not agrees(self.written, self.typed)

    def watch(self, text: str) -> None:
        """The model's text so far (the engine calls this at every token)."""
        self.written = text

    def follow(self, prefix: str, suffix: str) -> str | None:
        """The text typed since this flight began, when a request at ``prefix``|``suffix``
        continues it and agrees with the model so far (the flight then runs on for it); None
        when it does not."""
        if self.stopped or suffix != self.suffix or not prefix.startswith(self.prefix):
            return None
        typed = prefix[len(self.prefix):]
        if not agrees(self.written, typed):
            return None
        self.typed = typed
        return typed


class Flights:
    """The one flight per document URI that may be running."""

    def __init__(self) -> None:
        """No flights."""
        self._flights: dict[str, Flight] = {}
        self.pending: set[Any] = set()
        """Tasks that may start a flight later (kept here so that they are not collected)."""

    def follow(self, uri: str, prefix: str, suffix: str) -> tuple[Flight, str] | None:
        """The flight a request at ``prefix``|``suffix`` continues, with what was typed since;
        otherwise None, and the document's flight (if any) is stopped."""
        flight = self._flights.get(uri)
        if flight is None:
            return None
        typed = flight.follow(prefix, suffix)
        if typed is None:
            self.stop(uri)
            return None
        return flight, typed

    def begin(self, uri: str, prefix: str, suffix: str) -> Flight:
        """A new flight for ``uri`` (any other one stopped)."""
        self.stop(uri)
        flight = Flight(prefix, suffix)
        self._flights[uri] = flight
        return flight

    def end(self, uri: str, flight: Flight) -> None:
        """``flight`` has finished: forget it (unless a newer one has taken its place)."""
        if self._flights.get(uri) is flight:
            del self._flights[uri]

    def stop(self, uri: str) -> None:
        """Stop ``uri``'s flight at its next token and forget it (a closed document too)."""
        flight = self._flights.pop(uri, None)
        if flight is not None:
            flight.stopped = True
