"""Stand-ins for the evaluation tests: an oracle model, a recording provider, a hole maker."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from kodama.model.completion import CompletionSettings, Generation
from kodama.model.evaluation import Hole
from kodama.model.prompt import Budget, FimFormat
from kodama.model.types import Snippet

FIM = FimFormat("test", "<pre>", "<suf>", "<mid>", 0x110001, 0x110002, 0x110003)


class OracleEngine:
    """A fake FIM model that answers each hole with its original middle.

    Tokens are characters (special tokens above the Unicode range); the prompt's prefix and
    suffix identify the hole.
    """

    heals_tokens = True

    def __init__(self, holes: Sequence[Hole]) -> None:
        self.holes = holes
        self.prompts: list[tuple[str, str]] = []

    @property
    def fim(self) -> FimFormat | None:
        return FIM

    def encode(self, text: str) -> list[int]:
        return [ord(c) for c in text]

    def generate(self, ids: Sequence[int], *, max_new_tokens: int,
                 stop: Callable[[str], int | None], cancel: threading.Event | None = None,
                 cache_key: str | None = None,
                 heal_at: int | None = None) -> Generation:
        ids = list(ids)
        start, middle = ids.index(FIM.prefix_id), ids.index(FIM.suffix_id)
        end = ids.index(FIM.middle_id)
        # the prefix, then the cursor line's typed text, which the prompt puts after the middle
        # marker
        prefix = "".join(map(chr, ids[start + 1: middle] + ids[end + 1:]))
        suffix = "".join(map(chr, ids[middle + 1: end]))
        self.prompts.append((prefix, suffix))
        matches = [h for h in self.holes
                   if h.prefix.endswith(prefix) and h.suffix.startswith(suffix)]
        answer = matches[0].middle if len(matches) == 1 else ""
        text = ""
        for ch in answer:
            text += ch
            cut = stop(text)
            if cut is not None:
                return Generation(text[:cut], "stop", len(text), len(ids))
        return Generation(text, "eos", len(text), len(ids))


WHOLE_FILE = CompletionSettings(budget=Budget(prefix_tokens=8192, suffix_tokens=8192))
"""Prompts that hold whole fixture files (so the oracle can tell similar files apart)."""


class RecordingProvider:
    """Remembers what it was shown; offers one snippet from every given path."""

    def __init__(self, offer: Sequence[str]) -> None:
        self.offer = offer
        self.seen: list[tuple[str, str, int]] = []
        self.calls: list[str] = []

    def forget(self, path: str) -> None:
        self.calls.append(f"forget {path}")

    def snippets(self, path: str, text: str, offset: int) -> tuple[Snippet, ...]:
        self.seen.append((path, text, offset))
        self.calls.append(f"snippets {path}")
        return tuple(Snippet(p, f"# from {p}\n") for p in self.offer)


def make_hole(prefix: str, middle: str, suffix: str, kind: str = "single",
              original_parses: bool = True) -> Hole:
    """A hole in ``a.py`` (Python) at line 0."""
    return Hole("a.py", "python", kind, prefix, middle, suffix, 0,  # type: ignore[arg-type]
                original_parses)
