"""Generation engine: greedy decoding with KV-cache reuse, stop callbacks and cancellation.

Imports torch: load it only once a model is wanted (the server does so in a background thread).
One engine serves one model; calls are serialised by a lock (the server runs them on a single
worker thread anyway). Per ``cache_key`` (one per document) it keeps the KV cache of the last
prompt plus what was generated, so the next request while typing only prefills the tokens
after the longest common prefix.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from transformers import DynamicCache

from kodama.model.completion import Generation, StopReason
from kodama.model.loader import LoadedModel
from kodama.model.prompt import FimFormat, common_prefix_length, detect_fim

PREFILL_CHUNK = 256
"""Prompt tokens fed per forward pass during prefill (cancellation is checked between chunks)."""


@dataclass
class _Slot:
    """A cached KV state and the exact token ids it covers."""

    ids: list[int] = field(default_factory=list)
    cache: Any = None


class Engine:
    """A loaded causal LM ready to complete prompts (see ``kodama.model.completion``)."""

    def __init__(self, loaded: LoadedModel, *, cache_slots: int = 4) -> None:
        """Wrap ``loaded``; keep KV caches for up to ``cache_slots`` documents (LRU)."""
        self.loaded = loaded
        self.model: Any = loaded.model
        self.tokenizer: Any = loaded.tokenizer
        self._fim = detect_fim(self.tokenizer.get_vocab())
        self.stop_ids = self._stop_ids()
        self._lock = threading.Lock()
        self._slots: OrderedDict[str, _Slot] = OrderedDict()
        self._cache_slots = cache_slots

    @property
    def fim(self) -> FimFormat | None:
        """The model's fill-in-the-middle format, or None."""
        return self._fim

    def _stop_ids(self) -> frozenset[int]:
        """End-of-text and every special/control token: none of them belongs in a completion."""
        ids: set[int] = set(self.tokenizer.all_special_ids)
        for token_id, added in self.tokenizer.added_tokens_decoder.items():
            if added.special:
                ids.add(int(token_id))
        eos = getattr(self.model.generation_config, "eos_token_id", None)
        if isinstance(eos, int):
            ids.add(eos)
        elif isinstance(eos, list):
            ids.update(int(e) for e in eos)
        return frozenset(ids)

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` without special tokens."""
        return list(self.tokenizer.encode(text, add_special_tokens=False))

    def decode(self, ids: Sequence[int]) -> str:
        """Text of ``ids``, special tokens dropped."""
        return str(self.tokenizer.decode(list(ids), skip_special_tokens=True))

    def _slot(self, key: str | None) -> _Slot:
        name = key or ""
        slot = self._slots.pop(name, None) or _Slot()
        self._slots[name] = slot
        while len(self._slots) > self._cache_slots:
            self._slots.popitem(last=False)
        return slot

    def forget(self, key: str) -> None:
        """Drop the KV cache kept for ``key`` (a closed document)."""
        with self._lock:
            self._slots.pop(key, None)

    def _forward(self, ids: list[int], slot: _Slot) -> Any:
        """Feed ``ids`` after the slot's cache; logits of the last position only."""
        out = self.model(
            input_ids=torch.tensor([ids], dtype=torch.long),
            cache=slot.cache,
            use_cache=True,
            logits_to_keep=1,
        )
        slot.cache = out.cache
        slot.ids.extend(ids)
        return out.logits[0, -1]

    def generate(
        self,
        ids: Sequence[int],
        *,
        max_new_tokens: int,
        stop: Callable[[str], int | None],
        cancel: threading.Event | None = None,
        cache_key: str | None = None,
    ) -> Generation:
        """Greedy continuation of ``ids`` (see ``TextGenerator.generate``)."""
        prompt = list(ids)
        if not prompt:
            raise ValueError("empty prompt")
        with self._lock, torch.inference_mode():
            slot = self._slot(cache_key)
            reused = min(common_prefix_length(slot.ids, prompt), len(prompt) - 1)
            if slot.cache is None or reused == 0:
                slot.cache, slot.ids, reused = DynamicCache(), [], 0
            elif len(slot.ids) > reused:
                slot.cache.crop(-(len(slot.ids) - reused))
                del slot.ids[reused:]

            start = time.perf_counter()
            pending = prompt[reused:]
            logits = None
            while pending:
                if cancel is not None and cancel.is_set():
                    # The slot still matches what its cache holds: the next request reuses it.
                    return Generation("", "cancelled", 0, len(prompt), reused)
                chunk, pending = pending[:PREFILL_CHUNK], pending[PREFILL_CHUNK:]
                logits = self._forward(chunk, slot)
            prefill_ms = (time.perf_counter() - start) * 1000

            generated: list[int] = []
            text = ""
            reason: StopReason = "length"
            start = time.perf_counter()
            while len(generated) < max_new_tokens:
                if cancel is not None and cancel.is_set():
                    reason = "cancelled"
                    break
                assert logits is not None
                next_id = int(torch.argmax(logits).item())
                if next_id in self.stop_ids:
                    reason = "eos"
                    break
                generated.append(next_id)
                text = self.decode(generated)
                cut = stop(text)
                if cut is not None:
                    text = text[:cut]
                    reason = "stop"
                    break
                if len(generated) < max_new_tokens:
                    logits = self._forward([next_id], slot)
            decode_ms = (time.perf_counter() - start) * 1000
            return Generation(
                text=text,
                reason=reason,
                tokens=len(generated),
                prompt_tokens=len(prompt),
                reused_tokens=reused,
                prefill_ms=prefill_ms,
                decode_ms=decode_ms,
            )
