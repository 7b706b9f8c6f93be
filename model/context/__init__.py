"""Repository context for completions: a workspace index and the snippets it provides.

``WorkspaceIndex`` (index.py) holds definitions, imports and BM25 chunks of the repository's
files, incrementally updated and cached on disk; ``RepositoryContext`` (provider.py) picks the
snippets for a cursor position. Pure: no torch, no pygls.
"""

from __future__ import annotations

from kodama.model.context.index import BuildStats, WorkspaceIndex
from kodama.model.context.provider import OpenDocument, RepositoryContext

__all__ = ["BuildStats", "OpenDocument", "RepositoryContext", "WorkspaceIndex"]
