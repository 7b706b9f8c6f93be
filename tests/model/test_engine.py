"""The generation engine on a tiny model: KV-cache reuse is exact, stops and cancellation work."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from kodama.model.engine import PREFILL_CHUNK, Engine
from kodama.model.loader import load_model


@pytest.fixture(scope="module")
def engine(tiny_model_dir: Path) -> Engine:
    return Engine(load_model(str(tiny_model_dir), dtype="float32", threads=1))


def never(_: str) -> int | None:
    return None


def fresh(tiny_model_dir: Path) -> Engine:
    return Engine(load_model(str(tiny_model_dir), dtype="float32", threads=1))


def test_reused_cache_gives_the_same_tokens_as_a_cold_start(
    engine: Engine, tiny_model_dir: Path
) -> None:
    base = engine.encode("def total(items):\n    result = 0\n    for item in items:\n")
    first = engine.generate(base, max_new_tokens=12, stop=never, cache_key="doc")
    # The user types a few characters: the new prompt shares everything but its tail.
    typed = base + engine.encode("        result +=")
    warm = engine.generate(typed, max_new_tokens=12, stop=never, cache_key="doc")
    cold = fresh(tiny_model_dir).generate(typed, max_new_tokens=12, stop=never, cache_key="doc")
    assert first.reused_tokens == 0
    assert warm.reused_tokens >= len(base) - 1
    assert warm.text == cold.text and warm.tokens == cold.tokens == 12


def test_editing_the_middle_crops_the_cache_correctly(
    engine: Engine, tiny_model_dir: Path
) -> None:
    a = engine.encode("x = 1\ny = 2\nz = 3\n")
    engine.generate(a, max_new_tokens=8, stop=never, cache_key="m")
    b = engine.encode("x = 1\ny = 7\nz = 3\n")
    warm = engine.generate(b, max_new_tokens=8, stop=never, cache_key="m")
    cold = fresh(tiny_model_dir).generate(b, max_new_tokens=8, stop=never)
    assert 0 < warm.reused_tokens < len(b)
    assert warm.text == cold.text


def test_long_prompts_are_prefilled_in_chunks_with_the_same_result(
    engine: Engine, tiny_model_dir: Path
) -> None:
    ids = engine.encode("value = compute(value)\n" * 80)
    assert len(ids) > PREFILL_CHUNK
    chunked = engine.generate(ids, max_new_tokens=6, stop=never, cache_key="long")
    again = engine.generate(ids, max_new_tokens=6, stop=never, cache_key="long")
    assert chunked.text == again.text and again.reused_tokens == len(ids) - 1


def test_stop_callback_cuts_the_text(engine: Engine) -> None:
    ids = engine.encode("a = ")
    result = engine.generate(ids, max_new_tokens=20, stop=lambda t: 2 if len(t) >= 3 else None)
    assert result.reason == "stop" and len(result.text) == 2


def test_cancel_stops_generation_mid_loop(engine: Engine) -> None:
    cancel = threading.Event()

    def stop_after_three(text: str) -> int | None:
        stop_after_three.calls += 1  # type: ignore[attr-defined]
        if stop_after_three.calls == 3:  # type: ignore[attr-defined]
            cancel.set()
        return None

    stop_after_three.calls = 0  # type: ignore[attr-defined]
    result = engine.generate(engine.encode("b = "), max_new_tokens=40, stop=stop_after_three,
                             cancel=cancel)
    assert result.reason == "cancelled" and result.tokens == 3


def test_cancel_before_prefill_keeps_the_cache_consistent(
    engine: Engine, tiny_model_dir: Path
) -> None:
    cancel = threading.Event()
    cancel.set()
    ids = engine.encode("q = [1, 2, 3]\n")
    assert engine.generate(ids, max_new_tokens=5, stop=never, cancel=cancel,
                           cache_key="c").reason == "cancelled"
    after = engine.generate(ids, max_new_tokens=5, stop=never, cache_key="c")
    assert after.text == fresh(tiny_model_dir).generate(ids, max_new_tokens=5, stop=never).text


def test_forget_and_lru_limit_drop_caches(engine: Engine) -> None:
    ids = engine.encode("k = 1\n")
    for key in ("a", "b", "c", "d", "e"):
        engine.generate(ids, max_new_tokens=1, stop=never, cache_key=key)
    engine.forget("e")
    reused = engine.generate(ids, max_new_tokens=1, stop=never, cache_key="e").reused_tokens
    assert reused == 0
    # "a" was evicted by the LRU limit (4 slots).
    assert engine.generate(ids, max_new_tokens=1, stop=never, cache_key="a").reused_tokens == 0
