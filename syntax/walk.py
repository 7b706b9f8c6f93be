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

__all__ = [
    "IGNORED",
    "SKIP_REASONS",
    "OnSkip",
    "RepoFile",
    "admits",
    "inside",
    "walk",
    "within",
]


@dataclass(frozen=True)
class RepoFile:
    """A regular file of the repository, as the walk found it."""

    path: str
    """Repository-relative path with ``/`` separators."""
    size: int
    """Size in bytes."""
    mtime_ns: int
    """Last modification time (nanoseconds since the epoch)."""


HIDDEN_FOLDER = "hidden folder"
SKIPPED_FOLDER = "vendored, build or environment folder"
IGNORED = "ignored (.gitignore/.kodamaignore)"
LINK = "symbolic link"
NOT_A_FILE = "not a regular file"
UNREADABLE_FOLDER = "unreadable folder"
SKIP_REASONS = frozenset({HIDDEN_FOLDER, SKIPPED_FOLDER, IGNORED, LINK, NOT_A_FILE,
                          UNREADABLE_FOLDER})
"""Why :func:`walk` passes over a path (what its ``on_skip`` hears)."""

OnSkip = Callable[[str, str], None]
"""Hears a path passed over (folders end with ``/``) and why (one of :data:`SKIP_REASONS`)."""


def _folder_skip(ignorer: Ignorer, entry: os.DirEntry[str], rel: str) -> str | None:
    """Why the walk does not go into the folder ``entry`` (``rel`` relative to the root), or
    None when it does."""
    if entry.name.startswith("."):
        return HIDDEN_FOLDER
    if ignorer.skipped_dir(entry.name, Path(entry.path)):
        return SKIPPED_FOLDER
    return IGNORED if ignorer.verdict(rel, True) else None


def _file_skip(ignorer: Ignorer, mode: int, rel: str) -> str | None:
    """Why the walk does not list the non-folder ``rel`` (of ``stat`` mode ``mode``), or None
    when it does."""
    if stat.S_ISLNK(mode):
        return LINK
    if not stat.S_ISREG(mode):
        return NOT_A_FILE
    return IGNORED if ignorer.verdict(rel, False) else None


def _silent(rel: str, reason: str) -> None:
    """Hears nothing."""


def walk(root: Path, ignorer: Ignorer | None = None,
         on_folder: Callable[[str], None] | None = None,
         on_skip: OnSkip | None = None) -> Iterator[RepoFile]:
    """Every file of the repository at ``root`` that the rules above let through.

    ``ignorer`` carries the ignore rules (give the caller's own to share its cache and its
    ``exclude`` patterns); by default a fresh one for ``root``. ``on_folder`` hears the path of
    every folder the walk will enter (empty ones too), before any of its files. ``on_skip``
    hears every path passed over and why (:data:`SKIP_REASONS`): a folder (its path ending with
    ``/``; what is inside it is never listed) or a file; ``.gitignore`` rules and the caller's
    ``exclude`` patterns both count as :data:`IGNORED`. Files that vanish during the walk are
    passed over silently.
    """
    ignorer = ignorer or Ignorer(root)
    skip = on_skip or _silent
    pending = [""]
    while pending:
        folder = pending.pop(0)
        try:
            with os.scandir(root / folder if folder else root) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            if folder:
                skip(f"{folder}/", UNREADABLE_FOLDER)
            continue
        subfolders: list[str] = []
        for entry in entries:
            rel = f"{folder}/{entry.name}" if folder else entry.name
            try:
                info = entry.stat(follow_symlinks=False)
                if stat.S_ISDIR(info.st_mode):
                    reason = _folder_skip(ignorer, entry, rel)
                    if reason is not None:
                        skip(f"{rel}/", reason)
                        continue
                    subfolders.append(rel)
                    if on_folder is not None:
                        on_folder(rel)
                elif (reason := _file_skip(ignorer, info.st_mode, rel)) is not None:
                    skip(rel, reason)
                else:
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


def within(root: Path, path: Path) -> str | None:
    """The repository-relative path of ``path`` if it lies inside ``root`` by the rules of
    :func:`inside`, else None: for a path that arrives whole (a document's URI, a planned file).

    ``path`` is normalised first, the way a URI's dot segments are (``a/../b`` is ``b``), so
    a path that starts inside ``root`` and climbs out with ``..`` is outside. ``root`` may be
    spelled another way in ``path`` (a link to the root folder itself, ``/tmp`` for
    ``/private/tmp``): the folder counts, not its name. Below the root, a symbolic link on the
    way (or as the file) makes the path outside, as the walk would never reach it.
    """
    path = Path(os.path.abspath(path))
    rel = _relative_to(path, Path(os.path.abspath(root)))
    if rel is None:
        try:
            root_id = _identity(root)
        except OSError:
            return None
        rel = next((_relative_to(path, folder) for folder in path.parents
                    if _same(folder, root_id)), None)
    return rel if rel is not None and inside(root, rel) is not None else None


def _relative_to(path: Path, folder: Path) -> str | None:
    try:
        rel = path.relative_to(folder).as_posix()
    except ValueError:
        return None
    return None if rel == "." else rel


def _identity(path: Path) -> tuple[int, int]:
    info = os.stat(path)
    return info.st_dev, info.st_ino


def _same(folder: Path, identity: tuple[int, int]) -> bool:
    try:
        return _identity(folder) == identity
    except OSError:
        return False


def admits(root: Path, ignorer: Ignorer, rel: str) -> bool:
    """Whether :func:`walk` would list ``rel``: the same rules for one path that arrives on its
    own (a watched-file change, a document opened or closed in the editor)."""
    if inside(root, rel) is None:
        return False
    if any(part.startswith(".") for part in rel.split("/")[:-1]):
        return False
    return not ignorer.ignored(rel)
