"""Pure helpers of the latency benchmark: which lines to retype, how to type them, statistics.

No torch, no server, no model: unit-tested in ``tests/unit/test_benchmarks_helpers.py``.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from kodama.model.evaluation import percentile  # one definition for both harnesses

LANGUAGE_IDS = {".py": "python", ".js": "javascript", ".go": "go", ".rs": "rust",
                ".ts": "typescript", ".java": "java", ".c": "c", ".cpp": "cpp"}
"""LSP language ids by file suffix (what an editor would send in ``didOpen``)."""

COMMENTS = ("#", "//", "/*", "*", '"""')
"""Line starts that mark comments and docstrings: not retyped (we measure code completion)."""

PAUSE_AFTER = frozenset(" .,:;([{=")
"""Characters after which a typist tends to pause (the end of a word or a punctuation mark)."""


def pick_lines(text: str, count: int) -> list[int]:
    """``count`` code lines spread evenly over the file (not blank, not comments, ≥ 8 chars)."""
    if count <= 0:
        return []
    lines = text.split("\n")
    candidates = [i for i, line in enumerate(lines)
                  if len(line.strip()) >= 8 and not line.strip().startswith(COMMENTS)
                  and "█" not in line]
    if len(candidates) <= count:
        return candidates
    step = len(candidates) / count
    return [candidates[int(step * k + step / 2)] for k in range(count)]


@dataclass(frozen=True)
class Summary:
    """Count, median, 95th percentile and mean of a list of latencies (ms)."""

    n: int
    p50: float
    p95: float
    mean: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Summary:
        """Summarise ``values`` (NaN figures when empty)."""
        if not values:
            return cls(0, float("nan"), float("nan"), float("nan"))
        return cls(len(values), percentile(values, 50), percentile(values, 95),
                   statistics.fmean(values))


def ms(value: float) -> str:
    """A latency for a table cell: whole milliseconds, '–' for NaN."""
    return "–" if math.isnan(value) else f"{value:.0f}"


def ratio(a: float, b: float) -> str:
    """``a / b`` for a table cell, '–' when undefined."""
    if math.isnan(a) or math.isnan(b) or b == 0:
        return "–"
    return f"{a / b:.2f}"


@dataclass(frozen=True)
class Keystroke:
    """One typed character and how long the typist waits before the next one."""

    char: str
    pause_ms: float
    """Delay after this keystroke until the next one (or until the end of the line)."""


def typing_script(
    typed: str,
    *,
    seed: int = 0,
    interval_ms: tuple[float, float] = (80.0, 120.0),
    pause_ms: float = 600.0,
    pause_after: frozenset[str] = PAUSE_AFTER,
) -> list[Keystroke]:
    """Keystrokes that type ``typed`` at a human pace.

    Between keystrokes the typist waits a random time drawn uniformly from ``interval_ms``
    (reproducible: seeded by ``seed``). After a word or punctuation mark — a character of
    ``pause_after`` not followed by another one — and after the last character, they pause
    ``pause_ms`` instead: the natural points where an editor gets to show a completion.
    """
    low, high = interval_ms
    if low < 0 or high < low:
        raise ValueError(f"interval_ms must be 0 ≤ low ≤ high, not {interval_ms}")
    rng = random.Random(seed)
    script: list[Keystroke] = []
    for i, char in enumerate(typed):
        following = typed[i + 1] if i + 1 < len(typed) else None
        natural = following is None or (char in pause_after and following not in pause_after)
        delay = rng.uniform(low, high)
        script.append(Keystroke(char, max(pause_ms, delay) if natural else delay))
    return script


@dataclass(frozen=True)
class EditState:
    """A document as the editor holds it while a line is being retyped, with the cursor."""

    text: str
    line: int
    column: int
    """Cursor position in code points of the line."""
    typed: int
    """Characters of the line's code typed so far (0 = just after opening the document)."""

    @property
    def offset(self) -> int:
        """The cursor as a code-point offset into ``text``."""
        lines = self.text.split("\n")
        return sum(len(line) + 1 for line in lines[: self.line]) + self.column


def cut_line(text: str, row: int) -> tuple[str, str, str]:
    """``text`` with line ``row`` cut back to its indentation, the indentation, the cut code."""
    lines = text.split("\n")
    target = lines[row]
    indent = target[: len(target) - len(target.lstrip())]
    lines[row] = indent
    return "\n".join(lines), indent, target[len(indent):]


def edit_states(text: str, row: int, keystrokes: int) -> Iterator[EditState]:
    """The states of retyping line ``row``: cut back to its indentation, then each keystroke.

    At most ``keystrokes`` characters are typed (negative = the whole line).
    """
    opened, indent, code = cut_line(text, row)
    if keystrokes >= 0:
        code = code[:keystrokes]
    lines = opened.split("\n")
    for k in range(len(code) + 1):
        lines[row] = indent + code[:k]
        yield EditState("\n".join(lines), row, len(indent) + k, k)
