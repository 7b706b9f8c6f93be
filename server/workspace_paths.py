"""Which files the language server may read and write for a request: those of its workspace.

The roots are the folders the editor named in ``initialize`` (every workspace folder, and
``rootUri``), resolved; a URI counts as inside one when it is by the repository walk's rules
(:func:`~kodama.server.setup.workspace_file`: no ``..`` out of the root, no symbolic link below
it on the way). The commands behind the code actions (Explain, Generate docstring, Generate
tests) check the document they are given here before anything else, so a file outside the
workspace gets a clear error and nothing is read or written for it; they are not offered for
it either. A document that is no file (an unsaved buffer) involves nothing on disk.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from pygls.exceptions import JsonRpcInvalidParams

from kodama.server.setup import OutsideWorkspaceError, WorkspaceFile, path_of_uri, workspace_file

if TYPE_CHECKING:
    from kodama.server.app import KodamaServer

log = logging.getLogger(__name__)


def workspace_roots(server: KodamaServer) -> list[Path]:
    """The workspace's root folders, resolved, the indexed one first; empty when the editor
    named none."""
    uris: list[str] = []
    try:
        workspace = server.workspace
    except RuntimeError:  # pygls keeps no workspace before ``initialize``
        workspace = None
    if workspace is not None:
        uris.extend(folder.uri for folder in workspace.folders.values())
        if workspace.root_uri:
            uris.append(workspace.root_uri)
    roots = [server.workspace_index.root] if server.workspace_index.root is not None else []
    for uri in uris:
        path = path_of_uri(uri)
        if path is not None and path.is_dir() and path.resolve() not in roots:
            roots.append(path.resolve())
    return roots


def document_file(server: KodamaServer, uri: str) -> WorkspaceFile | None:
    """The workspace file a document's ``uri`` names; None for a document that is no file (an
    unsaved editor buffer: its text is all there is, nothing on disk is involved).

    Raises InvalidParams, with the reason, for a ``file:`` URI outside the workspace roots
    (:func:`workspace_roots`) or reached through a symbolic link that leads out of them.
    """
    try:
        return _located(server, uri)
    except OutsideWorkspaceError as exc:
        log.warning("refused: %s", exc)
        raise JsonRpcInvalidParams(str(exc)) from None


def in_workspace(server: KodamaServer, uri: str) -> bool:
    """Whether :func:`document_file` accepts ``uri``."""
    try:
        _located(server, uri)
    except OutsideWorkspaceError:
        return False
    return True


def _located(server: KodamaServer, uri: str) -> WorkspaceFile | None:
    if urlparse(uri).scheme != "file":
        return None
    return workspace_file(workspace_roots(server), uri)
