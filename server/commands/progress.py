"""The one terminal progress writer of the commands, and the three shapes of progress they show.

:class:`TerminalProgress` keeps one status line: on a terminal it is rewritten in place; written
elsewhere (a log, a pipe) each change worth keeping becomes a plain line of its own. On it:

- :meth:`TerminalProgress.report` is a :data:`~kodama.model.types.ProgressFn` (message and
  fraction: model loading, conversion);
- :class:`HoleProgress` is a bar over evaluation holes with the exact matches so far;
- :class:`TokenCount` is a live count of generated tokens (on a terminal only).
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from kodama.model.evaluation import HoleResult

BAR_WIDTH = 24
"""Characters of a hole progress bar."""


class TerminalProgress:
    """One status line on ``stream`` (standard error unless told otherwise)."""

    def __init__(self, stream: TextIO | None = None, *, prefix: str = "") -> None:
        """Write to ``stream`` (None: whatever ``sys.stderr`` is at the time), each line
        starting with ``prefix``."""
        self._stream = stream
        self.prefix = prefix
        self._open = False
        self._last_step: tuple[str, int | None] | None = None

    @property
    def stream(self) -> TextIO:
        """Where the line goes."""
        return self._stream if self._stream is not None else sys.stderr

    @property
    def on_terminal(self) -> bool:
        """Whether the line is rewritten in place."""
        return self.stream.isatty()

    def show(self, line: str, *, keep: bool = True) -> None:
        """Show ``line``: on a terminal in place of the previous one; elsewhere as a line of
        its own when ``keep`` (a line not kept shows on a terminal only)."""
        stream = self.stream
        if self.on_terminal:
            stream.write(f"\r\x1b[K{self.prefix}{line}")
            self._open = True
        elif keep:
            stream.write(f"{self.prefix}{line}\n")
        stream.flush()

    def report(self, message: str, fraction: float | None = None) -> None:
        """A message with its fraction done (0..1, None when unknown); away from a terminal
        only a new message or the next tenth makes a line."""
        percent = "" if fraction is None else f" {fraction * 100:3.0f}%"
        step = (message, None if fraction is None else int(fraction * 10))
        self.show(f"{message}{percent}", keep=step != self._last_step)
        self._last_step = step

    def clear(self) -> None:
        """Remove the line shown in place (nothing to do away from a terminal)."""
        if self._open:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._open = False

    def close(self, note: str = "") -> None:
        """End the line: ``note`` follows it (on a line of its own away from a terminal), and
        the next output starts on a new line."""
        if self._open:
            self.stream.write(f"{note}\n")
            self._open = False
        elif note:
            self.stream.write(f"{note.lstrip()}\n")
        self.stream.flush()


class HoleProgress:
    """A bar over evaluation holes: ``label [####....] done/total exact N · seconds``.

    Called with each hole's result (an ``OnHoleResult`` of :mod:`kodama.model.evaluation`);
    away from a terminal a line is kept every tenth of the holes and at the end.
    """

    def __init__(self, label: str, writer: TerminalProgress | None = None) -> None:
        """A bar named ``label``, started now, on ``writer`` (standard error by default)."""
        self.label = label
        self.writer = writer or TerminalProgress()
        self.started = time.perf_counter()
        self.exact = 0

    def __call__(self, done: int, total: int, result: HoleResult) -> None:
        """Count ``result`` and redraw."""
        self.exact += result.exact
        elapsed = time.perf_counter() - self.started
        filled = BAR_WIDTH * done // max(total, 1)
        finished = done == total
        self.writer.show(
            f"{self.label} [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total} "
            f"exact {self.exact} · {elapsed:.0f} s",
            keep=finished or done % max(1, total // 10) == 0)
        if finished:
            self.writer.close()


class TokenCount:
    """A live count of the tokens of one generation, ``label: N tokens`` (on a terminal only).

    It is the generation's stop rule that never stops: called with the text so far at each
    new token.
    """

    def __init__(self, label: str, writer: TerminalProgress | None = None) -> None:
        """A count named ``label`` on ``writer`` (standard error by default)."""
        self.label = label
        self.writer = writer or TerminalProgress()
        self.tokens = 0

    def __call__(self, _text: str) -> int | None:
        """One more token; never a cut."""
        self.tokens += 1
        self.writer.show(f"{self.label}: {self.tokens} tokens", keep=False)
        return None
