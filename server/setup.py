"""What the language server and the commands both build from the configuration.

The model layer's completion settings, the engines (the local model or a remote server), the
project a file belongs to, which files a URI may name (:func:`path_of_uri` resolves its dot
segments, :func:`workspace_file` keeps it inside the workspace roots by the repository walk's
rules), and :class:`RepositoryView`: the repository around a file as
completions and tasks read it (index, snippets, paths). ``kodama complete`` and the LSP
completion features ask the model through the very same :meth:`RepositoryView.completion_context`
and :func:`settings_from`, so they build the same prompt.

Neither an LSP feature nor a command: both sides import this module, and it imports neither.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

from kodama.model.completion import CompletionSettings, context_at, takes_snippets
from kodama.model.config import CompletionConfig, ContextConfig, ModelConfig, RemoteConfig
from kodama.model.context import OpenDocument, RepositoryContext, WorkspaceIndex
from kodama.model.prompt import Budget
from kodama.model.tasks.subject import Subject, subject_at
from kodama.model.types import CompletionContext, ProgressFn, Snippet
from kodama.syntax import docstrings
from kodama.syntax.document import SyntaxDocument
from kodama.syntax.walk import within

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from kodama.model.engine import Engine
    from kodama.model.loader import LoadedModel
    from kodama.model.remote import RemoteEngine

log = logging.getLogger(__name__)

PROJECT_MARKERS = (".git", "pyproject.toml", "setup.py", "setup.cfg", "package.json", "go.mod",
                   "Cargo.toml", "pom.xml", "build.gradle", "build.gradle.kts")
"""Files and folders whose presence makes a folder a project root."""

MAX_CONVENTION_FILES = 400
"""Python files read to find the repository's docstring convention."""


# ------------------------------------------------------------------ model layer settings
def settings_from(
    config: CompletionConfig, context: ContextConfig | None = None
) -> CompletionSettings:
    """The model layer's completion settings from the configuration (the repository context
    budget is ``context.tokens``, none when repository context is off)."""
    context = context or ContextConfig()
    return CompletionSettings(
        budget=Budget(prefix_tokens=config.prefix_tokens, suffix_tokens=config.suffix_tokens,
                      context_tokens=context.tokens if context.enabled else 0),
        max_new_tokens_single=config.max_new_tokens_single,
        max_new_tokens_multi=config.max_new_tokens_multi,
        max_lines=config.max_lines,
    )


def remote_engine(remote: RemoteConfig, model: ModelConfig, progress: ProgressFn | None,
                  on_health: Callable[[bool, str], None] | None = None) -> RemoteEngine:
    """The remote backend ``remote`` configures, with the tokenizer of ``remote.tokenizer``
    (or of ``model.name``) and the API key from its environment variable; not yet connected."""
    from kodama.model.loader import load_tokenizer
    from kodama.model.remote import Endpoint, RemoteEngine

    tokenizer = load_tokenizer(remote.tokenizer or model.name, progress=progress)
    endpoint = Endpoint(url=remote.url or "", model=remote.model,
                        api_key=os.environ.get(remote.api_key_env) or None,
                        timeout_s=remote.timeout_ms / 1000, retries=remote.retries)
    return RemoteEngine(endpoint, tokenizer, on_health=on_health)


def local_engine(model: ModelConfig, adapter: Path | None,
                 progress: ProgressFn | None) -> tuple[Engine, LoadedModel]:
    """The configured local model (with the adapter folder ``adapter``, if any) loaded into an
    engine; with what was loaded (its display name and number format). Imports torch."""
    from kodama.model.engine import Engine
    from kodama.model.loader import load_model

    loaded = load_model(model.name, dtype=model.dtype, progress=progress,
                        threads=model.threads, adapter=adapter, quantization=model.quantization)
    return Engine(loaded, quantization=model.quantization), loaded


# ------------------------------------------------------------------------------ paths
def path_of_uri(uri: str) -> Path | None:
    """The local path of a ``file:`` URI, normalised as a URI is (``a/../b`` is ``b``, without
    following links); None for other schemes, a file on another host, or a path no file can
    have (not absolute, a NUL character)."""
    parsed = urlparse(uri)
    if parsed.scheme != "file" or parsed.netloc not in ("", "localhost"):
        return None
    path = unquote(parsed.path)
    if os.name == "nt" and path.startswith("/") and len(path) > 2 and path[2] == ":":
        path = path[1:]
    if "\0" in path or not os.path.isabs(path):
        return None
    return Path(os.path.normpath(path))


class OutsideWorkspaceError(ValueError):
    """A URI names no file inside the workspace: nothing may be read or written for it."""


@dataclasses.dataclass(frozen=True)
class WorkspaceFile:
    """A file inside one of the workspace roots, as :func:`workspace_file` found it."""

    root: Path
    """The root that holds it."""
    rel: str
    """Its path relative to :attr:`root` (``/`` separators)."""

    @property
    def path(self) -> Path:
        """Its path, through the root (never through a link below it)."""
        return self.root / self.rel


def workspace_file(roots: Sequence[Path], uri: str) -> WorkspaceFile:
    """The file ``uri`` names, in the first of ``roots`` that holds it by the repository
    walk's rules (:func:`~kodama.syntax.walk.within`: dot segments resolved, so no ``..`` out,
    and no symbolic link below the root on the way); with no roots at all (an editor that
    opened a lone file), in the file's own project (:func:`project_root`).

    Raises :class:`OutsideWorkspaceError`, saying why, for anything else.
    """
    path = path_of_uri(uri)
    if path is None:
        raise OutsideWorkspaceError(
            f"{uri} is not a file on this machine: Kodama only reads and writes files of the "
            "workspace")
    for root in roots or [project_root(path)]:
        rel = within(root, path)
        if rel is not None:
            return WorkspaceFile(root, rel)
    shown = ", ".join(str(root) for root in roots) or str(path.parent)
    raise OutsideWorkspaceError(
        f"{path} is outside the workspace ({shown}) or reached through a symbolic link that "
        "leads out of it: Kodama only reads and writes files inside the workspace folders "
        "(open the file's own folder as the workspace to use it there)")


def project_root(path: Path) -> Path:
    """The nearest folder above ``path`` holding a project marker (:data:`PROJECT_MARKERS`);
    its own folder otherwise."""
    start = path.resolve().parent
    for folder in (start, *start.parents):
        if any((folder / marker).exists() for marker in PROJECT_MARKERS):
            return folder
    return start


def convention_of(index: WorkspaceIndex) -> str:
    """The docstring convention most of the indexed Python files follow (``google`` when the
    repository has no docstrings at all)."""
    found: list[str] = []
    paths = [p for p in index.paths() if p.endswith(".py")][:MAX_CONVENTION_FILES]
    for path in paths:
        text = index.text(path)
        if text:
            found.extend(docstrings.python_docstrings(text))
    return docstrings.detect_convention(found) if found else "google"


# ------------------------------------------------------------------------ repository
class RepositoryView:
    """The repository around the documents completions and tasks are asked for.

    Holds the root, the index of the root and the snippet provider over it (both only when
    repository context is on), and answers, for a document: its repository-relative path, the
    snippets for a position, and the whole completion context. The language server keeps one
    for its workspace (built in the background, fed by the editor's documents); a command
    makes one for the project of the file it is given.
    """

    def __init__(self, root: Path | None = None) -> None:
        """A view of ``root`` (a resolved folder; None: no repository) without an index."""
        self.root = root
        self.index: WorkspaceIndex | None = None
        self.provider: RepositoryContext | None = None
        self._paths: dict[str, str | None] = {}

    @classmethod
    def of_file(cls, path: Path, config: ContextConfig) -> RepositoryView:
        """The view of the project ``path`` belongs to (:func:`project_root`), with its index
        opened as ``config`` says (not built yet: call ``index.build()``)."""
        view = cls(project_root(path))
        view.open_index(config)
        return view

    def open_index(self, config: ContextConfig) -> WorkspaceIndex | None:
        """Create the index of the root (``context.maxFiles`` files at most) and the snippet
        provider over it; None, and no snippets ever, when repository context is off or there
        is no root. The index is empty until built."""
        if not config.enabled or self.root is None:
            return None
        self.index = WorkspaceIndex(self.root, max_files=config.max_files)
        self.provider = RepositoryContext(self.index)
        return self.index

    def relative(self, uri: str) -> str | None:
        """Repository-relative path (``/`` separators) of ``uri``; None outside the root (or
        reached through a symbolic link below it: :func:`~kodama.syntax.walk.within`)."""
        if uri in self._paths:
            return self._paths[uri]
        path = path_of_uri(uri)
        rel = None if path is None or self.root is None else within(self.root, path)
        self._paths[uri] = rel
        return rel

    def path_for(self, doc: SyntaxDocument) -> str | None:
        """The path shown to the model for ``doc``: repository-relative, else its file name."""
        rel = self.relative(doc.uri)
        if rel is not None:
            return rel
        path = path_of_uri(doc.uri)
        return path.name if path is not None and path.name else None

    def open_documents(self, doc: SyntaxDocument) -> list[OpenDocument]:
        """Other documents open in an editor besides ``doc``, with where they were edited last
        (the language server overrides this; a command has none)."""
        return []

    def snippets_for(self, doc: SyntaxDocument, offset: int) -> tuple[Snippet, ...]:
        """Repository snippets for a position ``offset`` of ``doc`` (cheap; never raises).

        Empty when repository context is off, there is no root, or ``doc`` lies outside it.
        """
        provider = self.provider
        if provider is None:
            return ()
        try:
            rel = self.relative(doc.uri)
            if rel is None:
                return ()
            return provider.snippets(rel, doc.text, offset, self.open_documents(doc),
                                     tree=doc.tree, language=doc.language)
        except Exception:
            log.exception("repository context failed for %s", doc.uri)
            return ()

    def completion_context(self, doc: SyntaxDocument, offset: int) -> CompletionContext:
        """What the model is asked for a completion at ``offset`` of ``doc``: the document
        around the position, its path and, for a multi-line completion, the repository
        snippets for it (looked up only then: see ``takes_snippets``)."""
        bare = context_at(doc, offset, path=self.path_for(doc))
        if not takes_snippets(bare.mode):
            return bare
        return dataclasses.replace(bare, snippets=self.snippets_for(doc, offset))

    def definition_at(self, doc: SyntaxDocument, offset: int) -> Subject | None:
        """The function, method or class around ``offset`` of ``doc``, with the repository
        definitions it uses; None outside one (or in a language Kodama does not know)."""
        if doc.language is None:
            return None
        bare = subject_at(doc.language.id, doc.text, offset,
                          path=self.path_for(doc) or doc.uri)
        if bare is None:
            return None
        return dataclasses.replace(bare, context=self.snippets_for(doc, bare.middle))
