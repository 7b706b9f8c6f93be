"""A running ``kodama serve`` picks up the adapter ``kodama fine-tune`` installs for its
workspace (and a rollback), without a restart, and keeps completing."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from lsprotocol import types

from helpers.lsp import start_client
from kodama.model.finetune.store import AdapterStore
from kodama.model.finetune.train import make_trainable, save_trained
from kodama.model.loader import load_model
from kodama.server.config import FineTuneConfig


def adapter_for(model_dir: Path, dest: Path) -> Path:
    """A LoRA adapter folder for ``model_dir`` (as ``kodama fine-tune`` writes it)."""
    model = make_trainable(load_model(str(model_dir), dtype="float32").model, FineTuneConfig())
    save_trained(model, dest, "lora")
    return dest


async def wait_status(client: Any, predicate: Any, timeout: float = 60) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        for status in reversed(client.kodama_statuses):
            if predicate(status):
                return dict(status)
        await asyncio.sleep(0.2)
    raise AssertionError(f"no such status; seen {client.kodama_statuses}")


async def test_server_loads_the_installed_adapter_and_follows_new_installs(
    tmp_path: Path, identifier_model_dir: Path, server_env: dict[str, str]
) -> None:
    root = tmp_path / "project"
    root.mkdir()
    (root / "app.py").write_text("def main():\n    value = \n")
    cache = tmp_path / "cache"
    env = {**server_env, "KODAMA_CACHE_DIR": str(cache)}
    store = AdapterStore(cache / "adapters")
    first = store.install(root, adapter_for(identifier_model_dir, tmp_path / "a1"), {})

    client = await start_client(str(identifier_model_dir), "visual-studio-code", env, root=root)
    try:
        ready = await wait_status(client, lambda s: s["state"] == "ready")
        assert f"fine-tuned adapter {first.version}" in ready["message"]

        second = store.install(root, adapter_for(identifier_model_dir, tmp_path / "a2"), {})
        assert second.version != first.version
        await wait_status(client, lambda s: f"adapter {second.version}" in s["message"])

        uri = (root / "app.py").as_uri()
        client.text_document_did_open(types.DidOpenTextDocumentParams(
            types.TextDocumentItem(uri, "python", 1, (root / "app.py").read_text())))
        result = await client.text_document_inline_completion_async(
            types.InlineCompletionParams(
                text_document=types.TextDocumentIdentifier(uri),
                position=types.Position(1, 12),
                context=types.InlineCompletionContext(
                    trigger_kind=types.InlineCompletionTriggerKind.Invoked)))
        assert result is not None and result.items and result.items[0].insert_text

        store.rollback(root)
        await wait_status(client, lambda s: s["state"] == "ready"
                          and f"adapter {first.version}" in s["message"]
                          and s is client.kodama_statuses[-1])
    finally:
        await client.shutdown_session()
