"""``kodama serve`` over its memory budget (a real server process on the tiny model, with a
budget of 1 MB): it says once that it degrades, and keeps answering completions."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types

from helpers.lsp import open_and_complete, start_client

APP = "from shapes import make_square\n\nsquare = make_square(3)\narea = \n"


async def test_a_server_over_its_memory_budget_degrades_and_keeps_answering(
        tmp_path: Path, identifier_model_dir: Path, kodama_cache_dir: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    (root / "shapes.py").write_text("def make_square(size):\n    return size * size\n")
    (root / "app.py").write_text(APP)
    env = {"KODAMA_CACHE_DIR": str(kodama_cache_dir), "KODAMA_THREADS": "1",
           "HF_HUB_OFFLINE": "1"}
    client = await start_client(str(identifier_model_dir), "neovim", env,
                                options={"model": {"memoryBudgetMb": 1}}, root=root)
    try:
        def warnings() -> list[types.ShowMessageParams]:
            return [m for m in client.messages if "memory budget" in m.message]

        for _ in range(100):
            if warnings():
                break
            await asyncio.sleep(0.1)
        said = warnings()
        assert len(said) == 1 and said[0].type == types.MessageType.Warning
        assert "more than its memory budget of 1 MB" in said[0].message
        uri = (root / "app.py").as_uri()
        result = await open_and_complete(client, uri, APP, 3, 7)
        assert isinstance(result, types.InlineCompletionList) and result.items
        assert client.kodama_statuses[-1]["state"] == "ready"  # type: ignore[attr-defined]
    finally:
        await client.shutdown_session()
        await client.stop()
