"""Kodama's own additions to LSP: the contract with ``editors/``.

Everything else Kodama speaks is standard LSP 3.18 (``textDocument/inlineCompletion``,
``textDocument/completion``, ``$/progress``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

STATUS_NOTIFICATION = "kodama/status"
"""Server → client notification, sent whenever the model's state changes.

Params: ``{"state": "loading" | "ready" | "error" | "disabled", "message": str, "model": str}``.
Editors show it in a status bar; tests and ``kodama demo`` wait for ``ready`` with it.
"""

ModelStateName = Literal["loading", "ready", "error", "disabled"]


@dataclass(frozen=True)
class StatusParams:
    """Params of ``kodama/status``."""

    state: ModelStateName
    message: str
    model: str


def status_from(params: Any) -> dict[str, Any]:
    """``kodama/status`` params as a dict, whatever shape the client library decoded them into
    (a dict, or pygls' namedtuple-like ``Object``)."""
    if isinstance(params, dict):
        return params
    if hasattr(params, "_asdict"):
        return dict(params._asdict())
    return dict(vars(params))
