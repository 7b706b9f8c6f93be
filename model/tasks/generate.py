"""The plain synchronous driver of a task's generation (the CLI and the benchmarks).

The server drives the same engine in slices instead, so that completions keep priority
(``kodama.server.tasks``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from kodama.model.completion import Cancellation, Generation, TextGenerator


class ChatModel(TextGenerator, Protocol):
    """What a task needs from a model (the real ``Engine`` or a fake in tests)."""

    def encode_chat(self, messages: Sequence[Mapping[str, str]]) -> list[int]:
        """Token ids of the chat, ending where the assistant's answer starts."""
        ...


def no_stop(_text: str) -> int | None:
    """Task answers end at the model's end-of-turn token or their budget, not at a pattern."""
    return None


def run_chat(model: ChatModel, messages: Sequence[Mapping[str, str]], max_new_tokens: int, *,
             stop: Callable[[str], int | None] = no_stop, cancel: Cancellation | None = None,
             cache_key: str = "task") -> Generation:
    """The model's whole answer to ``messages`` (greedy, up to ``max_new_tokens``)."""
    return model.generate(model.encode_chat(messages), max_new_tokens=max_new_tokens,
                          stop=stop, cancel=cancel, cache_key=cache_key)
