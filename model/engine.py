"""Generation engine: greedy decoding with KV-cache reuse, prompt-lookup drafts, stop callbacks
and cancellation.

Imports torch: load it only once a model is wanted (the server does so in a background thread).
One engine serves one model; calls are serialised by a lock (the server runs them on a single
worker thread anyway).

Three things make it fast on a CPU:
- Per ``cache_key`` (one per document) it keeps the KV cache of the last prompt plus what was
  generated, so the next request while typing only prefills the tokens after the longest
  common prefix.
- Prompt-lookup decoding: code repeats itself, so when the last tokens also occur earlier in the
  prompt or the output, the tokens that followed them there are proposed as a draft and checked
  in one forward pass; every draft token the model agrees with is a decoding step saved. The
  result is exactly greedy decoding's (up to floating-point rounding between kernels).
- Optional int8 weight-only quantisation (``kodama.model.quantize``) for the decode steps.

Token healing (``kodama.model.healing``): asked to, it takes the prompt's last prefix token out
and constrains the first steps to tokens consistent with that token's text.
"""

from __future__ import annotations

import ctypes
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from transformers import DynamicCache

from kodama.model.completion import Cancellation, Generation, StopReason
from kodama.model.healing import Vocabulary
from kodama.model.loader import LoadedModel
from kodama.model.prompt import FimFormat, common_prefix_length, detect_fim
from kodama.model.quantize import Quantization, quantize_model
from kodama.model.tokens import Detokenizer, PlainText, chat_ids, stop_ids

PREFILL_CHUNK = 256
"""Prompt tokens fed per forward pass during prefill (cancellation is checked between chunks)."""

DRAFT_TOKENS = 6
"""Most draft tokens proposed by prompt lookup per step."""

DRAFT_NGRAM = (3, 2)
"""Lengths of the trailing n-gram searched for earlier in the sequence (longest first)."""


def _release_memory() -> Callable[[], object]:
    """``malloc_trim(0)`` where glibc has it, else a no-op.

    Prefill allocates and frees large temporaries (dequantised weights, kernel workspaces);
    glibc keeps freed memory in its heap, so without this a server's resident size would
    settle near its highest peak instead of what it needs.
    """
    try:
        trim = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return lambda: None
    return lambda: trim(0)


release_memory = _release_memory()


def propose_draft(ids: Sequence[int], limit: int, ngrams: Sequence[int] = DRAFT_NGRAM) -> list[int]:
    """Tokens that followed the latest earlier occurrence of ``ids``' trailing n-gram.

    Pure and cheap: a backwards scan over at most the last few thousand ids.
    """
    if limit <= 0:
        return []
    n_ids = len(ids)
    for n in ngrams:
        if n_ids <= n:
            continue
        tail = list(ids[n_ids - n:])
        first = tail[0]
        start = max(0, n_ids - 4096)
        for i in range(n_ids - n - 1, start - 1, -1):
            if ids[i] == first and list(ids[i:i + n]) == tail:
                follow = list(ids[i + n : i + n + limit])
                if follow:
                    return follow
    return []


@dataclass
class _Slot:
    """A cached KV state and the exact token ids it covers."""

    ids: list[int] = field(default_factory=list)
    cache: Any = None


class Engine:
    """A loaded causal LM ready to complete prompts (see ``kodama.model.completion``)."""

    def __init__(
        self,
        loaded: LoadedModel,
        *,
        quantization: Quantization = "none",
        draft_tokens: int = DRAFT_TOKENS,
        cache_slots: int = 4,
    ) -> None:
        """Wrap ``loaded``; keep KV caches for up to ``cache_slots`` documents (LRU).

        ``quantization`` packs the linear layers' weights in place for faster decoding;
        ``draft_tokens`` = 0 turns prompt-lookup decoding off.
        """
        self.loaded = loaded
        self.model: Any = loaded.model
        self.tokenizer: Any = loaded.tokenizer
        self.quantization = quantization
        self.draft_tokens = draft_tokens
        if loaded.quantization not in ("none", quantization):
            raise ValueError(f"the model was loaded with {loaded.quantization} weights, not "
                             f"{quantization}")
        quantize_model(self.model, quantization)
        release_memory()  # the loader's and the quantiser's temporaries
        self._fim = detect_fim(self.tokenizer.get_vocab())
        self.stop_ids = stop_ids(
            self.tokenizer, getattr(self.model.generation_config, "eos_token_id", None))
        self._lock = threading.Lock()
        self._slots: OrderedDict[str, _Slot] = OrderedDict()
        self._cache_slots = cache_slots
        self._vocabulary: Vocabulary | None = None
        self.vocabulary()  # now (~2 s for 150k tokens) rather than in the first completion

    heals_tokens = True
    """It heals the token before the cursor (:mod:`kodama.model.healing`)."""

    @property
    def fim(self) -> FimFormat | None:
        """The model's fill-in-the-middle format, or None."""
        return self._fim

    def encode_chat(self, messages: Sequence[Mapping[str, str]]) -> list[int]:
        """Token ids of a chat, ending where the assistant's answer starts (see
        :func:`kodama.model.tokens.chat_ids`)."""
        return chat_ids(self.tokenizer, messages)

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` as plain text (see :class:`PlainText`)."""
        return PlainText(self.tokenizer).encode(text)

    def decode(self, ids: Sequence[int]) -> str:
        """Text of ``ids``, special tokens dropped."""
        return str(self.tokenizer.decode(list(ids), skip_special_tokens=True))

    def vocabulary(self) -> Vocabulary:
        """Every ordinary token's text, for token healing (built once)."""
        if self._vocabulary is None:
            size = len(self.tokenizer)
            texts = self.tokenizer.batch_decode([[i] for i in range(size)])
            special = set(self.tokenizer.all_special_ids) | set(self.tokenizer.added_tokens_decoder)
            self._vocabulary = Vocabulary(texts, special)
        return self._vocabulary

    def _heal(self, prompt: list[int], heal_at: int | None) -> tuple[list[int], str]:
        """The prompt without the token at ``heal_at`` and the text that token stood for; the
        prompt unchanged and '' when that token cannot be healed."""
        if heal_at is None or not 0 <= heal_at < len(prompt) or len(prompt) < 2:
            return prompt, ""
        text = self.vocabulary().text(prompt[heal_at])
        if text is None:
            return prompt, ""
        return prompt[:heal_at] + prompt[heal_at + 1:], text

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

    def forget_all(self) -> None:
        """Drop every KV cache kept (memory is short)."""
        with self._lock:
            self._slots.clear()

    def _forward(self, ids: list[int], slot: _Slot, keep: int = 1) -> Any:
        """Feed ``ids`` after the slot's cache; logits of the last ``keep`` positions."""
        out = self.model(
            input_ids=torch.tensor([ids], dtype=torch.long),
            cache=slot.cache,
            use_cache=True,
            logits_to_keep=keep,
        )
        slot.cache = out.cache
        slot.ids.extend(ids)
        return out.logits[0]

    @staticmethod
    def _crop(slot: _Slot, length: int) -> None:
        """Cut the slot back to its first ``length`` tokens."""
        extra = len(slot.ids) - length
        if extra > 0:
            slot.cache.crop(-extra)
            del slot.ids[length:]

    def generate(
        self,
        ids: Sequence[int],
        *,
        max_new_tokens: int,
        stop: Callable[[str], int | None],
        cancel: Cancellation | None = None,
        cache_key: str | None = None,
        heal_at: int | None = None,
    ) -> Generation:
        """Greedy continuation of ``ids`` (see ``TextGenerator.generate``), healing the token
        at ``heal_at`` when it is an ordinary whole token."""
        if not ids:
            raise ValueError("empty prompt")
        with self._lock, torch.inference_mode():
            prompt, forced = self._heal(list(ids), heal_at)
            slot = self._slot(cache_key)
            reused = min(common_prefix_length(slot.ids, prompt), len(prompt) - 1)
            if slot.cache is None or reused == 0:
                slot.cache, slot.ids, reused = DynamicCache(), [], 0
            else:
                self._crop(slot, reused)

            start = time.perf_counter()
            pending = prompt[reused:]
            logits = None
            while pending:
                if cancel is not None and cancel.is_set():
                    # The slot still matches what its cache holds: the next request reuses it.
                    return Generation("", "cancelled", 0, len(prompt), reused)
                chunk, pending = pending[:PREFILL_CHUNK], pending[PREFILL_CHUNK:]
                logits = self._forward(chunk, slot)[-1]
            prefill_ms = (time.perf_counter() - start) * 1000

            start = time.perf_counter()
            text, generated, reason, drafted = self._decode(
                prompt, logits, slot, max_new_tokens, stop, cancel, forced
            )
            decode_ms = (time.perf_counter() - start) * 1000
            release_memory()
            return Generation(
                text=text,
                reason=reason,
                tokens=len(generated),
                prompt_tokens=len(prompt),
                reused_tokens=reused,
                prefill_ms=prefill_ms,
                decode_ms=decode_ms,
                draft_accepted=drafted,
                ids=tuple(generated),
            )

    def _decode(
        self,
        prompt: list[int],
        logits: Any,
        slot: _Slot,
        max_new_tokens: int,
        stop: Callable[[str], int | None],
        cancel: Cancellation | None,
        forced: str = "",
    ) -> tuple[str, list[int], StopReason, int]:
        """The token loop: greedy choice, prompt-lookup drafts verified in one pass, stops.

        While the healed text ``forced`` is not yet written, each step chooses among the
        tokens consistent with what is left of it, without drafts; the text returned (and the
        text the stop rule sees) starts after it. Returns the text, the tokens, why it ended
        and how many tokens came from drafts.
        """
        generated: list[int] = []
        drafted = 0
        text = ""
        pending = forced
        detokenizer = Detokenizer(self.decode)
        candidates: list[int] = [self._choose(logits, pending)]
        while True:
            if cancel is not None and cancel.is_set():
                return text, generated, "cancelled", drafted
            # Accept candidates in order: the first is the model's own choice, the rest are
            # draft tokens the model has just confirmed.
            for token in candidates:
                if token in self.stop_ids:
                    return text, generated, "eos", drafted
                generated.append(token)
                whole = detokenizer.push(token)
                pending = forced[len(whole):] if forced.startswith(whole) else ""
                text = "" if pending else whole[len(forced):]
                cut = stop(text) if text else None
                if cut is not None:
                    return text[:cut], generated, "stop", drafted
                if len(generated) >= max_new_tokens:
                    return text, generated, "length", drafted
            last = generated[-1]
            budget = min(self.draft_tokens, max_new_tokens - len(generated))
            draft = propose_draft(prompt + generated, budget) if budget > 0 and not pending else []
            base = len(slot.ids)  # the cache holds everything but `last`
            out = self._forward([last, *draft], slot, keep=len(draft) + 1)
            if pending:
                candidates = [self._choose(out[-1], pending)]
                continue
            predictions = torch.argmax(out, dim=-1).tolist()
            accepted = 0
            while accepted < len(draft) and predictions[accepted] == draft[accepted]:
                accepted += 1
            self._crop(slot, base + 1 + accepted)
            drafted += accepted
            candidates = [*draft[:accepted], int(predictions[accepted])]

    def _choose(self, logits: Any, pending: str) -> int:
        """The greedy token; while healing, the best of those consistent with ``pending``."""
        if not pending:
            return int(torch.argmax(logits).item())
        allowed = self.vocabulary().consistent(pending)
        best = int(torch.argmax(logits[allowed]).item())
        return allowed[best]
