"""A fake text generator for completion tests: writes scripted answers character by character.

It honours the engine's contract as the completion task sees it (stop rules, cancellation) and
records what it was asked; ``pace`` makes it write like a model that takes time, so tests can
type while it generates.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from kodama.model.completion import Cancellation, Generation
from kodama.model.prompt import FimFormat, detect_fim


class ScriptedEngine:
    """Writes its next answer (the last one again once they run out), one character every
    ``pace`` seconds, honouring stop rules and cancellation."""

    def __init__(self, *answers: str, pace: float = 0.0, heals_tokens: bool = True) -> None:
        self.heals_tokens = heals_tokens
        self.answers = list(answers)
        self.pace = pace
        self.prompts: list[list[int]] = []
        self.heals: list[int | None] = []
        self.written = ""
        """The text of the running (or last) generation so far."""
        self.outcomes: list[str] = []
        """``done`` or ``cancelled after '…'``, per generation."""
        self._fim = detect_fim({"<|fim_prefix|>": 1, "<|fim_suffix|>": 2, "<|fim_middle|>": 3})

    @property
    def fim(self) -> FimFormat | None:
        return self._fim

    def encode(self, text: str) -> list[int]:
        return [ord(c) + 10 for c in text]

    def forget(self, key: str) -> None:
        pass

    def generate(self, ids: Sequence[int], *, max_new_tokens: int,
                 stop: Callable[[str], int | None], cancel: Cancellation | None = None,
                 cache_key: str | None = None, heal_at: int | None = None) -> Generation:
        self.prompts.append(list(ids))
        self.heals.append(heal_at)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        text = ""
        for ch in answer[:max_new_tokens]:
            if cancel is not None and cancel.is_set():
                self.outcomes.append(f"cancelled after {text!r}")
                return Generation(text, "cancelled", len(text), len(ids))
            if self.pace:
                time.sleep(self.pace)
            text += ch
            self.written = text
            cut = stop(text)
            if cut is not None:
                self.outcomes.append("done")
                return Generation(text[:cut], "stop", len(text), len(ids))
        self.outcomes.append("done")
        return Generation(text, "eos", len(text), len(ids))
