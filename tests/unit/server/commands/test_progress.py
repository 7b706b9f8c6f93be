"""The one terminal progress writer: a line rewritten in place on a terminal, plain lines
elsewhere, and the hole bar and token count drawn on it."""

from __future__ import annotations

import io
from types import SimpleNamespace
from typing import Any

from kodama.server.commands.progress import HoleProgress, TerminalProgress, TokenCount


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_the_line_is_rewritten_in_place_and_closed_once() -> None:
    out = Terminal()
    progress = TerminalProgress(out, prefix="> ")
    progress.report("loading", 0.5)
    progress.report("loading", 1.0)
    progress.close(" (done)")
    progress.close()
    assert out.getvalue() == "\r\x1b[K> loading  50%\r\x1b[K> loading 100% (done)\n"


def test_elsewhere_a_line_for_each_new_message_or_tenth() -> None:
    out = io.StringIO()
    progress = TerminalProgress(out)
    for fraction in (0.0, 0.01, 0.05, 0.1, 0.15):
        progress.report("converting", fraction)
    progress.report("loading")
    progress.clear()
    progress.close()
    assert out.getvalue() == "converting   0%\nconverting  10%\nloading\n"


def test_clear_removes_the_line_on_a_terminal() -> None:
    out = Terminal()
    progress = TerminalProgress(out)
    progress.report("loading")
    progress.clear()
    progress.close()
    assert out.getvalue() == "\r\x1b[Kloading\r\x1b[K"


def hole(exact: bool) -> Any:
    return SimpleNamespace(exact=exact)


def test_the_hole_bar_keeps_a_line_every_tenth_and_at_the_end() -> None:
    out = io.StringIO()
    bar = HoleProgress("f32", TerminalProgress(out))
    for done in range(1, 21):
        bar(done, 20, hole(done % 2 == 0))
    lines = out.getvalue().splitlines()
    assert len(lines) == 10 and lines[0].startswith("f32 [##..") and " 2/20 exact 1 · " in lines[0]
    assert lines[-1].startswith(f"f32 [{'#' * 24}] 20/20 exact 10 · ")


def test_the_token_count_shows_on_a_terminal_only_and_never_stops() -> None:
    quiet = io.StringIO()
    count = TokenCount("explain f", TerminalProgress(quiet))
    assert [count("x"), count("xy")] == [None, None] and count.tokens == 2
    assert quiet.getvalue() == ""
    out = Terminal()
    TokenCount("explain f", TerminalProgress(out))("x")
    assert out.getvalue() == "\r\x1b[Kexplain f: 1 tokens"
