"""Repository context during an evaluation, kept from seeing the held-out files.

:class:`NoContext` gives none; :func:`repository_provider` searches a fresh workspace index;
:func:`held_out_free` builds a provider over a temporary copy of the repository without the
held-out files.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from kodama.model.evaluation.files import SourceFile, mirror_without
from kodama.model.evaluation.holes import HoleSet
from kodama.model.types import Snippet


class ContextProvider(Protocol):
    """Repository context for a position: what ``CompletionContext.snippets`` receives."""

    def snippets(self, path: str, text: str, offset: int) -> tuple[Snippet, ...]:
        """Snippets for code-point ``offset`` of document ``text`` at repository path ``path``."""
        ...


class NoContext:
    """File-only context: no snippets."""

    def snippets(self, path: str, text: str, offset: int) -> tuple[Snippet, ...]:
        """Always empty."""
        return ()



ProviderFactory = Callable[[Path, Sequence[str]], ContextProvider]
"""Builds a repository-context provider over a workspace root (the held-out-free copy) that
must also leave out the given repository-relative paths (the held-out files, again)."""


def repository_provider(root: Path, exclude: Sequence[str] = ()) -> ContextProvider:
    """``kodama.model.context``'s ``RepositoryContext`` over a fresh index of ``root``.

    ``exclude`` (repository-relative paths) are never indexed; the index is not cached on disk.
    ValueError when that package is not available in this build.
    """
    try:
        from kodama.model.context import RepositoryContext, WorkspaceIndex
    except ImportError as exc:
        raise ValueError(
            f"--context repo needs kodama.model.context, which is not available ({exc})"
        ) from exc
    index = WorkspaceIndex(root, exclude=[f"/{path}" for path in exclude], persist=False)
    index.build()  # logs its summary ("index of …")
    return RepositoryContext(index)


@contextmanager
def held_out_free(root: Path, files: list[SourceFile], hole_set: HoleSet,
                  factory: ProviderFactory) -> Iterator[ContextProvider]:
    """A provider built over a temporary copy of the repository without the held-out files.

    Two locks on one door: the held-out files are not in the copy, and the factory is told to
    exclude them as well.
    """
    with tempfile.TemporaryDirectory(prefix="kodama-eval-") as tmp:
        mirror = mirror_without(root, files, hole_set.held_out, Path(tmp) / root.name)
        yield factory(mirror, hole_set.held_out)
