"""The golden cases of the secret rules (``secret_cases.toml``), read for the tests."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

CASES_FILE = Path(__file__).with_name("secret_cases.toml")
SPLIT = "\u00b7"
"""Splits credential-shaped values in the file (so scanners leave it alone); removed on load."""


@dataclass(frozen=True)
class SecretCase:
    """One file and what :func:`~kodama.model.finetune.secrets.secret_reason` must say."""

    kind: str | None
    """The expected reason; None for a look-alike that must not be flagged."""
    path: str
    text: str
    why: str

    @property
    def id(self) -> str:
        """A readable test id."""
        return f"{self.kind or 'none'}:{self.path}"


def load_cases() -> list[SecretCase]:
    """Every case of the file, in order."""
    cases = tomllib.loads(CASES_FILE.read_text(encoding="utf-8"))["case"]
    return [SecretCase(None if case["kind"] == "none" else case["kind"], case["path"],
                       case["text"].replace(SPLIT, ""), case["why"]) for case in cases]
