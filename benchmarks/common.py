"""Helpers shared by the benchmarks: fetching the repositories they run on, and the latency
benchmark's pure parts (which lines to retype, how to type them, statistics).

No torch, no server, no model: unit-tested in ``tests/unit/bench``.
"""

from __future__ import annotations

import math
import random
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from kodama.model.evaluation import percentile  # one definition for both harnesses

LANGUAGE_IDS = {".py": "python", ".js": "javascript", ".go": "go", ".rs": "rust",
                ".ts": "typescript", ".java": "java", ".c": "c", ".cpp": "cpp"}
"""LSP language ids by file suffix (what an editor would send in ``didOpen``)."""

COMMENTS = ("#", "//", "/*", "*", '"""')
"""Line starts that mark comments and docstrings: not retyped (we measure code completion)."""

PAUSE_AFTER = frozenset(" .,:;([{=")
"""Characters after which a typist tends to pause (the end of a word or a punctuation mark)."""

SDIST_CACHE = Path.home() / ".cache" / "kodama-bench" / "sdists"
"""Where the benchmarks download and unpack the packages they run on."""

DEFAULT_SDISTS = (("flask", "3.1.3"), ("requests", "2.34.2"))
"""The benchmarks' usual repositories: these sdists from PyPI."""


def log(message: str) -> None:
    """Progress on stderr (the tables go to stdout)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ packages as repositories
def _stems(name: str, version: str) -> list[str]:
    """The ``name-version`` spellings an archive or its folder may have (``more_itertools``,
    ``Jinja2``, ``jinja2`` …)."""
    names = [name, name.lower(), re.sub(r"[-_.]+", "_", name).lower(),
             re.sub(r"[-_.]+", "-", name).lower()]
    return [f"{n}-{version}" for n in dict.fromkeys(names)]


def _archive(cache: Path, stems: Sequence[str], suffix: str) -> Path | None:
    wanted = {f"{stem}{suffix}".lower() for stem in stems}
    return next((p for p in sorted(cache.iterdir()) if p.name.lower() in wanted), None)


def _unpack(archive: Path, cache: Path, folder: str | None = None) -> Path:
    """Unpack ``archive`` (one top-level folder) into ``cache``; return that folder, renamed
    to ``folder`` when given (npm packs everything under ``package/``)."""
    with tarfile.open(archive) as tar:
        top = {m.name.removeprefix("./").split("/", 1)[0] for m in tar.getmembers()} - {""}
        if len(top) != 1:
            raise RuntimeError(f"{archive} does not unpack into one folder")
        into = cache if folder is None else cache / f".{folder}.unpacking"
        if folder is not None:
            shutil.rmtree(into, ignore_errors=True)  # what an interrupted unpacking left
        if hasattr(tarfile, "data_filter"):
            tar.extractall(into, filter="data")
        else:  # pragma: no cover - Python without the extraction filters
            tar.extractall(into)
    unpacked = into / top.pop()
    if folder is None:
        return unpacked
    unpacked.rename(cache / folder)
    into.rmdir()
    return cache / folder


def sdist_folders(cache: Path, sdists: Sequence[tuple[str, str]] = DEFAULT_SDISTS,
                  *, python: str = sys.executable) -> list[Path]:
    """The unpacked sdists ``(name, version)`` under ``cache``, downloaded and unpacked if
    missing.

    Downloads with ``pip download --no-binary :all: --no-deps NAME==VERSION ... -d cache``
    (only the missing ones, in one call) and unpacks each ``.tar.gz`` next to it.
    """
    cache.mkdir(parents=True, exist_ok=True)

    def folder_of(name: str, version: str) -> Path | None:
        return next((cache / s for s in _stems(name, version) if (cache / s).is_dir()), None)

    missing = [(n, v) for n, v in sdists if folder_of(n, v) is None
               and _archive(cache, _stems(n, v), ".tar.gz") is None]
    if missing:
        specs = [f"{n}=={v}" for n, v in missing]
        log(f"downloading {', '.join(specs)} into {cache} ...")
        subprocess.run([python, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps",
                        "--disable-pip-version-check", "--quiet", *specs, "-d", str(cache)],
                       check=True)
    folders = []
    for name, version in sdists:
        folder = folder_of(name, version)
        if folder is None:
            archive = _archive(cache, _stems(name, version), ".tar.gz")
            if archive is None:
                raise FileNotFoundError(f"pip download left no sdist of {name}=={version} "
                                        f"in {cache}")
            folder = _unpack(archive, cache)
        folders.append(folder)
    return folders


def npm_folder(cache: Path, name: str, version: str, *, npm: str = "npm") -> Path:
    """The unpacked npm package ``name@version`` as ``cache/name-version``, fetched with
    ``npm pack NAME@VERSION`` (run in ``cache``) and unpacked on first use."""
    stem = f"{name.lstrip('@').replace('/', '-')}-{version}"
    if (cache / stem).is_dir():
        return cache / stem
    cache.mkdir(parents=True, exist_ok=True)
    archive = _archive(cache, [stem], ".tgz")
    if archive is None:
        log(f"downloading {name}@{version} into {cache} ...")
        subprocess.run([npm, "pack", "--silent", f"{name}@{version}"], cwd=cache, check=True,
                       stdout=subprocess.DEVNULL)
        archive = _archive(cache, [stem], ".tgz")
        if archive is None:
            raise FileNotFoundError(f"npm pack left no {stem}.tgz in {cache}")
    return _unpack(archive, cache, stem)


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
