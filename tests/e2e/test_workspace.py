"""Repository context end to end: the server indexes its workspace in the background, with
``$/progress``, caches the index on disk, and completions keep answering with snippets."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types

from helpers.lsp import open_and_complete, start_client

SHAPES = (
    "class Rectangle:\n"
    "    def __init__(self, width: float, height: float) -> None:\n"
    "        self.width = width\n"
    "        self.height = height\n\n\n"
    "def make_square(size: float) -> Rectangle:\n"
    "    return Rectangle(size, size)\n"
)
APP = "from shapes import make_square\n\nsquare = make_square(3)\narea = \n"


async def test_workspace_is_indexed_with_progress_and_completions_answer(
    tmp_path: Path, identifier_model_dir: Path, server_env: dict[str, str]
) -> None:
    root = tmp_path / "project"
    root.mkdir()
    (root / "shapes.py").write_text(SHAPES)
    (root / "app.py").write_text(APP)
    cache = tmp_path / "cache"
    env = {**server_env, "KODAMA_CACHE_DIR": str(cache)}
    client = await start_client(str(identifier_model_dir), "visual-studio-code", env, root=root)
    try:
        def index_end() -> types.WorkDoneProgressEnd | None:
            for reports in client.progress_reports.values():
                if reports and isinstance(reports[0], types.WorkDoneProgressBegin) and \
                        "indexing" in (reports[0].message or ""):
                    end = reports[-1]
                    return end if isinstance(end, types.WorkDoneProgressEnd) else None
            return None

        for _ in range(200):
            if index_end() is not None:
                break
            await asyncio.sleep(0.05)
        end = index_end()
        assert end is not None and end.message is not None
        assert end.message.startswith("indexed 2 files"), end.message
        assert list((cache / "index").glob("*.json")), "the index is cached on disk"

        uri = (root / "app.py").as_uri()
        result = await open_and_complete(client, uri, APP, 3, 7, invoked=False)
        assert isinstance(result, types.InlineCompletionList)
        assert len(result.items) == 1 and str(result.items[0].insert_text).strip()
    finally:
        await client.shutdown_session()
        await client.stop()
