"""The one walk over a repository's files, with one set of rules, for every feature that lists
them: the workspace index, ``kodama eval``, fine-tune data and the test-layout detection.

What it never yields or enters:

- symbolic links, to files or folders: a link can lead out of the repository (to a home folder,
  to ``/etc``), and nothing Kodama reads may come from outside the workspace root;
- hidden folders (``.git``, ``.github``, ``.aws``, …): tool state, caches and credentials;
- folders every project keeps out of its code (:data:`~kodama.syntax.ignore.SKIP_DIRS`,
  ``*.egg-info``, virtual environments);
- what ``.gitignore`` and ``.kodamaignore`` files (or the caller's ``exclude`` patterns) name;
- anything that is not a regular file (sockets, devices, fifos).

Shallow folders come first and names are sorted, so a walk that stops early (a cap on the number
of files) keeps the files nearest the root, the same ones every time. The walk only lists: what
a feature then reads (size caps, binary content, languages) is the feature's own business.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from kodama.syntax.ignore import Ignorer

__all__ = ["RepoFile", "admits", "inside", "walk"]


@dataclass(frozen=True)
class RepoFile:
    """A regular file of the repository, as the walk found it."""

    path: str
    """Repository-relative path with ``/`` separators."""
    size: int
    """Size in bytes."""
    mtime_ns: int
    """Last modification time (nanoseconds since the epoch)."""


def _enter(ignorer: Ignorer, entry: os.DirEntry[str], rel: str) -> bool:
    """Whether the walk goes into the folder ``entry`` (``rel`` relative to the root)."""
    if entry.name.startswith(".") or ignorer.skipped_dir(entry.name, Path(entry.path)):
        return False
    return not ignorer.verdict(rel, True)


def walk(root: Path, ignorer: Ignorer | None = None,
         on_folder: Callable[[str], None] | None = None) -> Iterator[RepoFile]:
    """Every file of the repository at ``root`` that the rules above let through.

    ``ignorer`` carries the ignore rules (give the caller's own to share its cache and its
    ``exclude`` patterns); by default a fresh one for ``root``. ``on_folder`` hears the path of
    every folder the walk will enter (empty ones too), before any of its files. Unreadable
    folders and files that vanish during the walk are passed over silently.
    """
    ignorer = ignorer or Ignorer(root)
    pending = [""]
    while pending:
        folder = pending.pop(0)
        try:
            with os.scandir(root / folder if folder else root) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            continue
        subfolders: list[str] = []
        for entry in entries:
            rel = f"{folder}/{entry.name}" if folder else entry.name
            try:
                info = entry.stat(follow_symlinks=False)
                if stat.S_ISDIR(info.st_mode):
                    if _enter(ignorer, entry, rel):
                        subfolders.append(rel)
                        if on_folder is not None:
                            on_folder(rel)
                elif stat.S_ISREG(info.st_mode) and not ignorer.verdict(rel, False):
                    yield RepoFile(rel, info.st_size, info.st_mtime_ns)
            except OSError:
                continue
        pending.extend(subfolders)


def inside(root: Path, rel: str) -> Path | None:
    """The file at repository-relative ``rel`` if reading it stays inside ``root``, else None.

    None when ``rel`` is absolute or climbs out with ``..``, or when the file or any folder on
    the way to it is a symbolic link (a link inside the repository may point anywhere). For
    paths that arrive one at a time (a watched-file change, a closed document) rather than
    through :func:`walk`.
    """
    parts = rel.split("/")
    if not rel or rel.startswith("/") or any(p in ("", ".", "..") for p in parts):
        return None
    here = root
    for part in parts:
        here = here / part
        if here.is_symlink():
            return None
    return here


def admits(root: Path, ignorer: Ignorer, rel: str) -> bool:
    """Whether :func:`walk` would list ``rel``: the same rules for one path that arrives on its
    own (a watched-file change, a document opened or closed in the editor)."""
    if inside(root, rel) is None:
        return False
    if any(part.startswith(".") for part in rel.split("/")[:-1]):
        return False
    return not ignorer.ignored(rel)
