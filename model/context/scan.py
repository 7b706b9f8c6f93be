"""Which files of the repository the workspace index holds, under its caps.

Candidates are source files (a known language or a code extension) that the ignore rules let
through, found shallow folders first; :func:`select_files` keeps at most ``max_files`` files and
``max_total_bytes`` bytes of them, files with a grammar and shallow files first.
:class:`BuildStats` records what a build did, these choices included.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from kodama.syntax import languages
from kodama.syntax.ignore import CODE_EXTENSIONS, Ignorer
from kodama.syntax.walk import walk

MAX_FILE_BYTES = 512 * 1024
"""Larger files are not indexed."""
MAX_FILES = 5000
"""Most files in one index."""
MAX_TOTAL_BYTES = 50 * 1024 * 1024
"""Most bytes of files in one index."""

FileStat = tuple[str, int, int]
"""A candidate file: repository-relative path, size in bytes, modification time (ns)."""


@dataclass
class BuildStats:
    """What a build did."""

    files: int = 0
    reused: int = 0
    """Files taken from the cache without parsing."""
    parsed: int = 0
    skipped: int = 0
    """Binary, minified, unreadable or too large files."""
    capped: int = 0
    """Files left out because of the file or size caps."""
    bytes: int = 0
    seconds: float = 0.0
    definitions: int = 0
    chunks: int = 0
    cache_bytes: int = 0

    @property
    def truncated(self) -> bool:
        """Whether the caps left files out."""
        return self.capped > 0

    def summary(self) -> str:
        """One line for logs and the progress bar."""
        text = (f"{self.files} files ({self.bytes / 1e6:.1f} MB), {self.definitions} "
                f"definitions, {self.chunks} chunks in {self.seconds:.1f} s "
                f"({self.reused} from cache)")
        if self.capped:
            text += f"; {self.capped} more files left out (index capped)"
        return text


def indexable_name(path: str) -> bool:
    """Whether ``path``'s name makes it a file to index (a known language or a code extension,
    not a minified bundle); the ignore rules are checked separately."""
    suffix = posixpath.splitext(path)[1].lower()
    if languages.detect(path) is None and suffix not in CODE_EXTENSIONS:
        return False
    return not path.endswith((".min.js", ".min.css", ".bundle.js"))


def walk_files(root: Path, ignorer: Ignorer) -> Iterator[FileStat]:
    """Every candidate file under ``root``: the repository walk's files with an indexable name,
    shallow folders first, names sorted."""
    for found in walk(root, ignorer):
        if indexable_name(found.path):
            yield found.path, found.size, found.mtime_ns


def select_files(
    candidates: Iterable[FileStat],
    stats: BuildStats,
    *,
    max_files: int = MAX_FILES,
    max_total_bytes: int = MAX_TOTAL_BYTES,
    max_file_bytes: int = MAX_FILE_BYTES,
) -> list[FileStat]:
    """The files to index under the caps: files with a grammar first, shallow first.

    Counts the files too large (``stats.skipped``) and those the caps leave out
    (``stats.capped``); the result is sorted by path.
    """
    limit = max_files * 4
    found: list[FileStat] = []
    for item in candidates:
        if item[1] > max_file_bytes:
            stats.skipped += 1
            continue
        found.append(item)
        if len(found) >= limit:
            stats.capped += 1  # at least one more: the walk stops here
            break
    found.sort(key=lambda f: (languages.detect(f[0]) is None, f[0].count("/"), f[0]))
    chosen: list[FileStat] = []
    total = 0
    for item in found:
        if len(chosen) >= max_files or total + item[1] > max_total_bytes:
            stats.capped += 1
            continue
        chosen.append(item)
        total += item[1]
    chosen.sort(key=lambda f: f[0])
    return chosen
