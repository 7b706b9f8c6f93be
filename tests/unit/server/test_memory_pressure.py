"""The server under memory pressure degrades instead of being killed: past
``model.memory_budget_mb`` the engine's KV caches are dropped (each time), and once the
workspace turns repository context off, drops its index and tells the user."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types

from kodama.server import model_host
from kodama.server.app import create_server
from kodama.server.config import KodamaConfig, ModelConfig, merge
from kodama.server.model_host import ModelHost, memory_budget
from kodama.syntax.document import SyntaxDocument
from kodama.syntax.languages import detect

MB = 1024 * 1024


class Engine:
    """Counts how often its KV caches are dropped."""

    def __init__(self) -> None:
        self.dropped = 0

    def forget_all(self) -> None:
        self.dropped += 1


@pytest.fixture
def using(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The resident memory the host measures: set ``using[0]`` (bytes)."""
    used = [100 * MB]
    monkeypatch.setattr(model_host, "resident_bytes", lambda: used[0])
    return used


def test_the_budget_is_the_setting_or_three_quarters_of_the_machine() -> None:
    import psutil

    assert memory_budget(512) == 512 * MB
    assert memory_budget(0) == int(psutil.virtual_memory().total * 0.75)
    errors: list[str] = []
    config = merge(KodamaConfig(), {"model": {"memoryBudgetMb": 300}}, errors)
    assert errors == [] and config.model.memory_budget_mb == 300


def test_past_the_budget_caches_are_dropped_each_time_and_listeners_told_once(
        using: list[int]) -> None:
    host = ModelHost(ModelConfig(memory_budget_mb=200))
    engine = Engine()
    host.local = engine  # type: ignore[assignment]
    told: list[str] = []
    host.on_memory_pressure.append(told.append)
    assert not host.check_memory() and engine.dropped == 0 and not host.degraded
    using[0] = 300 * MB
    assert host.check_memory() and host.check_memory()
    assert engine.dropped == 2 and host.degraded
    assert told == ["Kodama uses 300 MB, more than its memory budget of 200 MB "
                    "(model.memoryBudgetMb): repository context is off and its index and "
                    "caches are dropped; restart the server to turn them back on"]


def test_a_failing_listener_does_not_stop_the_others(using: list[int]) -> None:
    host = ModelHost(ModelConfig(memory_budget_mb=1))

    def broken(message: str) -> None:
        raise RuntimeError("boom")

    told: list[str] = []
    host.on_memory_pressure += [broken, told.append]
    assert host.check_memory() and len(told) == 1


async def test_the_workspace_lets_go_of_its_index_and_says_so_once(
        tmp_path: Path, using: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "shapes.py").write_text("def make_square(size):\n    return size * size\n")
    server = create_server(KodamaConfig(model=ModelConfig(memory_budget_mb=50)),
                           load_model=False)
    shown: list[tuple[types.MessageType, str]] = []
    monkeypatch.setattr(server, "show", lambda kind, message: shown.append((kind, message)))
    workspace = server.workspace_index
    workspace.root = root.resolve()
    server.config = merge(server.config, {"context": {"enabled": True}}, [])
    server.protocol.client_capabilities = types.ClientCapabilities()  # as after initialize
    workspace.start(asyncio.get_running_loop())
    assert workspace.indexed.wait(10)
    assert workspace.provider is not None and workspace.index is not None
    doc = SyntaxDocument((root / "app.py").as_uri(), "x = make_square(3)\ny = ",
                         detect("app.py"))
    assert workspace.snippets_for(doc, len(doc.text)) != (), "context before the pressure"

    using[0] = 60 * MB
    checks = [threading.Thread(target=server.model.check_memory) for _ in range(2)]
    for check in checks:
        check.start()
        check.join()
    await asyncio.sleep(0.1)
    assert workspace.index is None and workspace.provider is None
    assert workspace.snippets_for(doc, len(doc.text)) == ()
    assert [kind for kind, _ in shown] == [types.MessageType.Warning]
    assert "repository context is off" in shown[0][1]
    workspace._opened(doc)  # an edit after that is not indexed
    assert workspace._pending == {}
    workspace.shutdown()


def test_degraded_server_still_builds_prompts_without_context(using: list[int]) -> None:
    server: Any = create_server(KodamaConfig(), load_model=False)
    workspace = server.workspace_index
    workspace.under_pressure("memory is short")
    doc = SyntaxDocument("file:///x/app.py", "def f():\n    return ", detect("app.py"))
    context = workspace.completion_context(doc, len(doc.text))
    assert context.snippets == ()
