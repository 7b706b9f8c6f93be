"""Long task generations yield to completions: a waiting completion stops the running slice at
its next token, runs, and the task continues where it stopped (server.generations + ModelHost)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import Any

import pytest

from kodama.model.completion import Cancellation, Generation
from kodama.model.tasks.generate import ChatRequest
from kodama.server.config import ModelConfig
from kodama.server.generations import TaskCancelledError, generate
from kodama.server.model_host import ModelHost


class SlowEngine:
    """Writes token 7 every few milliseconds until told to stop; records every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, str]] = []
        self.forgotten: list[str] = []

    def encode_chat(self, messages: Sequence[Any]) -> list[int]:
        return [1, 2, 3]

    def encode(self, text: str) -> list[int]:
        return [9] * len(text)

    def decode(self, ids: Sequence[int]) -> str:
        return "t" * len(ids)

    def forget(self, key: str) -> None:
        self.forgotten.append(key)

    def generate(self, ids: Sequence[int], *, max_new_tokens: int,
                 stop: Callable[[str], int | None], cancel: Cancellation | None = None,
                 cache_key: str | None = None,
                 heal_at: int | None = None) -> Generation:
        self.calls.append((len(ids), "start"))
        out: list[int] = []
        while len(out) < max_new_tokens:
            if cancel is not None and cancel.is_set():
                self.calls.append((len(out), "stopped"))
                return Generation("", "cancelled", len(out), len(ids), ids=tuple(out))
            time.sleep(0.004)
            out.append(7)
            cut = stop(self.decode(out))
            if cut is not None:
                self.calls.append((len(out), "cut"))
                return Generation(self.decode(out)[:cut], "stop", len(out), len(ids),
                                  ids=tuple(out))
        self.calls.append((len(out), "finished"))
        return Generation("", "length", len(out), len(ids), ids=tuple(out))


def fake_server(engine: SlowEngine) -> Any:
    host = ModelHost(ModelConfig())
    host.engine = engine  # type: ignore[assignment]
    return SimpleNamespace(model=host, client_capabilities=SimpleNamespace(window=None))


async def test_a_waiting_completion_preempts_the_task_which_then_continues() -> None:
    engine = SlowEngine()
    server = fake_server(engine)
    cancel = threading.Event()
    task = asyncio.ensure_future(generate(server, ChatRequest([], 300), title="t", cancel=cancel,
                                          key="k"))
    await asyncio.sleep(0.2)  # the task's first slice is generating
    assert not task.done()
    answered = await server.model.run(lambda: "completion", urgent=True)
    assert answered == "completion"
    assert not task.done(), "the completion ran in the middle of the task"
    text = await task
    assert text == "t" * 300, "the task still produced its whole answer"
    starts = [n for n, what in engine.calls if what == "start"]
    assert len(starts) >= 2 and engine.calls[1][1] == "stopped"
    stopped_after = engine.calls[1][0]
    assert 0 < stopped_after < 300
    assert starts[1] == 3 + stopped_after, "the next slice continues from prompt + tokens so far"
    assert engine.forgotten == ["task:k"], "the task's KV cache slot is released"


async def test_cancelling_a_task_stops_it_at_its_next_token() -> None:
    engine = SlowEngine()
    server = fake_server(engine)
    cancel = threading.Event()
    task = asyncio.ensure_future(generate(server, ChatRequest([], 10_000), title="t", cancel=cancel,
                                           key="c"))
    await asyncio.sleep(0.1)
    cancel.set()
    with pytest.raises(TaskCancelledError):
        await task
    assert engine.calls[-1][1] == "stopped"
    assert engine.forgotten == ["task:c"]


async def test_without_a_model_a_task_fails_with_a_clear_error() -> None:
    from kodama.model.errors import TaskError

    server = fake_server(SlowEngine())
    server.model.engine = None
    server.model.message = "loading default"
    with pytest.raises(TaskError, match=r"not ready \(loading default"):
        await generate(server, ChatRequest([], 10), title="t", cancel=threading.Event(),
                       key="x")


async def test_the_stop_rule_sees_the_whole_answer_across_slices() -> None:
    engine = SlowEngine()
    server = fake_server(engine)
    request = ChatRequest([], 300, prefill="ab",
                          stop=lambda text: 120 if len(text) >= 125 else None)
    task = asyncio.ensure_future(generate(server, request, title="t", cancel=threading.Event(),
                                          key="s"))
    await asyncio.sleep(0.2)
    await server.model.run(lambda: None, urgent=True)
    assert await task == "t" * 120
    assert engine.calls[0] == (3 + 2, "start"), "the prefill follows the chat prompt"
    assert [what for _, what in engine.calls].count("start") >= 2
    assert engine.calls[-1] == (125 - engine.calls[1][0], "cut")
