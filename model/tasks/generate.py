"""What a task asks the model (:class:`ChatRequest`) and the plain synchronous driver that runs
it (the CLI and the benchmarks).

The server drives the same requests in slices instead, so that completions keep priority
(``kodama.server.generations``); :func:`continued` lets a stop rule see the whole answer
across slices.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from kodama.model.completion import Cancellation, Generation, TextGenerator

StopRule = Callable[[str], int | None]
"""Sees the answer so far; returns where to cut it (and stop), or None to go on."""


class ChatModel(TextGenerator, Protocol):
    """What a task needs from a model (the real ``Engine`` or a fake in tests)."""

    def encode_chat(self, messages: Sequence[Mapping[str, str]]) -> list[int]:
        """Token ids of the chat, ending where the assistant's answer starts."""
        ...


def no_stop(_text: str) -> int | None:
    """Answers that end at the model's end-of-turn token or their budget."""
    return None


@dataclass(frozen=True)
class ChatRequest:
    """One task generation: the chat, the answer's budget, and optionally the answer's first
    words written for the model (``prefill``) and where the answer ends (``stop``, which sees
    the text after the prefill)."""

    messages: Sequence[Mapping[str, str]]
    max_new_tokens: int
    prefill: str = ""
    stop: StopRule = no_stop


@runtime_checkable
class AnswersChats(Protocol):
    """A model that takes the whole request itself (the remote backend: it chooses the
    endpoint), instead of token ids."""

    def answer(self, request: ChatRequest, *, stop: StopRule,
               cancel: Cancellation | None = None) -> Generation:
        """The answer after the prefill, cut by ``stop``."""
        ...


def prompt_ids(model: ChatModel, request: ChatRequest) -> list[int]:
    """The prompt's token ids: the chat template, then the prefill as plain text."""
    ids = model.encode_chat(request.messages)
    return ids + model.encode(request.prefill) if request.prefill else ids


def continued(rule: StopRule, before: str) -> StopRule:
    """``rule`` for a slice that continues an answer already ``before`` long."""

    def check(text: str) -> int | None:
        cut = rule(before + text)
        return None if cut is None else max(cut - len(before), 0)

    return check


def run_chat(model: ChatModel | AnswersChats, request: ChatRequest, *, watch: StopRule = no_stop,
             cancel: Cancellation | None = None, cache_key: str = "task") -> Generation:
    """The model's answer (after the prefill, cut by the request's stop rule); ``watch`` sees
    the text as it grows (for a progress display) and may also stop it."""

    def stop(text: str) -> int | None:
        cut = request.stop(text)
        return cut if cut is not None else watch(text)

    if isinstance(model, AnswersChats):
        return model.answer(request, stop=stop, cancel=cancel)
    return model.generate(prompt_ids(model, request), max_new_tokens=request.max_new_tokens,
                          stop=stop, cancel=cancel, cache_key=cache_key)
