"""Kodama's own additions to LSP: the contract with ``editors/``.

Everything else Kodama speaks is standard LSP 3.18 (``textDocument/inlineCompletion``,
``textDocument/completion``, ``$/progress``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

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
