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


def test_propose_draft_follows_the_latest_earlier_occurrence() -> None:
    from kodama.model.engine import propose_draft

    assert propose_draft([1, 2, 3, 9, 1, 2, 3], 2) == [9, 1]
    assert propose_draft([5, 1, 2, 7, 7, 1, 2, 8, 4, 1, 2], 3) == [8, 4, 1]  # the latest one
    assert propose_draft([1, 2, 3, 4], 4) == []  # no earlier occurrence
    assert propose_draft([1, 2, 1, 2], 0) == []


def test_prompt_lookup_drafts_change_nothing_but_speed(tiny_model_dir: Path) -> None:
    loaded = load_model(str(tiny_model_dir), dtype="float32", threads=1)
    plain = Engine(loaded, draft_tokens=0)
    ids = plain.encode("for item in items:\n    total += item.price\n" * 6 + "for item in ")
    expected = plain.generate(ids, max_new_tokens=24, stop=never)
    drafting = Engine(load_model(str(tiny_model_dir), dtype="float32", threads=1))
    result = drafting.generate(ids, max_new_tokens=24, stop=never)
    assert result.text == expected.text and result.tokens == expected.tokens
    assert expected.draft_accepted == 0


def test_drafts_are_accepted_when_the_model_repeats_itself(identifier_model_dir: Path) -> None:
    engine = Engine(load_model(str(identifier_model_dir), dtype="float32", threads=1))
    ids = engine.encode("value = ")
    first = engine.generate(ids, max_new_tokens=32, stop=never)
    again = engine.generate(ids + engine.encode(first.text + "\nvalue = "), max_new_tokens=32,
                            stop=never)
    plain = Engine(load_model(str(identifier_model_dir), dtype="float32", threads=1),
                   draft_tokens=0).generate(ids + engine.encode(first.text + "\nvalue = "),
                                            max_new_tokens=32, stop=never)
    assert again.text == plain.text
    assert again.draft_accepted > 0


def test_int8_linear_is_close_to_the_float_layer() -> None:
    import torch

    from kodama.model.quantize import Int8Linear, dequant_min_rows

    torch.manual_seed(0)
    for dtype in (torch.bfloat16, torch.float32):
        layer = torch.nn.Linear(64, 96).to(dtype)
        packed = Int8Linear.quantize(layer)
        for rows in (1, dequant_min_rows(dtype) - 1, dequant_min_rows(dtype) + 3):
            x = torch.randn(1, rows, 64, dtype=dtype)
            ref = layer(x).float()
            out = packed(x)
            assert out.dtype == dtype and out.shape == ref.shape
            assert ((out.float() - ref).norm() / ref.norm()).item() < 0.02


@pytest.mark.parametrize("kind", ["int8", "int4"])
def test_blockwise_dequantisation_is_the_whole_matrix_product(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Large layers are dequantised block by block into one reused buffer: the product is the
    one the whole dequantised matrix gives, block after block, call after call."""
    import torch

    from kodama.model import quantize

    if kind == "int4" and not quantize.int4_layout_ok():
        pytest.skip("this torch build has no CPU int4 kernel")
    torch.manual_seed(0)
    layer = torch.nn.Linear(64, 320)
    packed = quantize.PACKED_LAYERS[kind].quantize(layer)
    whole = packed.dequantized(torch.float32, 0, 320)
    x = torch.randn(80, 64)
    expected = x @ whole.T + layer.bias.detach()
    monkeypatch.setattr(quantize, "DEQUANT_BLOCK_ELEMENTS", 128 * 64)  # 3 blocks
    monkeypatch.setattr(quantize, "_scratch", threading.local())  # no buffer made yet
    for inference in (True, False):  # the buffer made under inference mode serves outside it
        with torch.inference_mode(inference), torch.no_grad():
            out = packed(x)
        torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-5)
        assert torch.equal(packed.dequantized(torch.float32, 0, 320), whole)  # nothing overwritten
    x.requires_grad_(True)
    packed(x).sum().backward()  # with autograd the blocks are fresh tensors
    assert x.grad is not None
    torch.testing.assert_close(x.grad, whole.sum(0).expand(80, 64), rtol=1e-5, atol=1e-4)


def test_int8_engine_quantizes_every_linear_and_still_completes(tiny_model_dir: Path) -> None:
    from kodama.model.quantize import Int8Linear

    loaded = load_model(str(tiny_model_dir), threads=1)
    engine = Engine(loaded, quantization="int8")
    linears = [m for m in engine.model.modules() if isinstance(m, Int8Linear)]
    assert len(linears) == 2 * 7 + 1  # 2 layers × (q, k, v, o, gate, up, down) + lm_head
    result = engine.generate(engine.encode("def f(x):\n    return "), max_new_tokens=8,
                             stop=never, cache_key="q")
    assert result.tokens == 8


def test_special_token_text_in_code_stays_text(engine: Engine) -> None:
    fim_middle = engine.tokenizer.convert_tokens_to_ids("<|fim_middle|>")
    ids = engine.encode('marker = "<|fim_middle|>"  # <|endoftext|>')
    assert fim_middle not in ids
    assert not set(ids) & engine.stop_ids
    assert engine.decode(ids) == 'marker = "<|fim_middle|>"  # <|endoftext|>'


def healed_reference(engine: Engine, ids: list[int], heal_at: int, steps: int) -> list[int]:
    """Token healing the slow way: a full forward pass per token, no cache, no drafts."""
    import torch

    vocabulary = engine.vocabulary()
    forced = vocabulary.text(ids[heal_at])
    assert forced is not None
    prompt = ids[:heal_at] + ids[heal_at + 1:]
    out: list[int] = []
    with torch.inference_mode():
        for _ in range(steps):
            logits = engine.model(input_ids=torch.tensor([prompt + out])).logits[0, -1]
            pending = forced[len(engine.decode(out)):] if forced.startswith(
                engine.decode(out)) else ""
            allowed = vocabulary.consistent(pending) if pending else list(range(len(logits)))
            out.append(allowed[int(torch.argmax(logits[allowed]))])
    return out


def test_healing_is_greedy_decoding_constrained_to_the_healed_text(
    tiny_model_dir: Path,
) -> None:
    """The healed token's text is written first (as the same or a longer token), the text
    returned starts after it, and cache, drafts and chunks change nothing."""
    for draft_tokens in (0, 6):
        engine = Engine(load_model(str(tiny_model_dir), dtype="float32", threads=1),
                        draft_tokens=draft_tokens)
        for source in ("total = compute(", "for item in items:\n    total += item.pr",
                       "x = "):
            ids = engine.encode(source)
            heal_at = len(ids) - 1
            forced = engine.vocabulary().text(ids[heal_at])
            assert forced is not None and source.endswith(forced)
            result = engine.generate(ids, max_new_tokens=10, stop=never, heal_at=heal_at)
            expected = healed_reference(engine, ids, heal_at, len(result.ids))
            assert list(result.ids) == expected
            whole = engine.decode(result.ids)
            assert whole.startswith(forced) and result.text == whole[len(forced):]
            assert result.prompt_tokens == len(ids) - 1


def test_healing_a_token_in_the_middle_of_a_fim_prompt(engine: Engine) -> None:
    fim = engine.fim
    assert fim is not None
    prefix, suffix = engine.encode("value = max("), engine.encode(")\n")
    ids = [fim.prefix_id, *prefix, fim.suffix_id, *suffix, fim.middle_id]
    heal_at = len(prefix)  # the prefix's last token, "("
    result = engine.generate(ids, max_new_tokens=6, stop=never, heal_at=heal_at)
    assert result.ids and engine.decode(result.ids).startswith("(")
    assert result.ids == tuple(healed_reference(engine, ids, heal_at, len(result.ids)))


def test_special_or_final_tokens_are_not_healed(engine: Engine) -> None:
    fim = engine.fim
    assert fim is not None
    ids = [fim.prefix_id, *engine.encode("a = "), fim.suffix_id, fim.middle_id]
    plain = engine.generate(ids, max_new_tokens=6, stop=never)
    for heal_at in (0, len(ids) - 2, len(ids) - 1, len(ids), -1):  # special, out of range
        same = engine.generate(ids, max_new_tokens=6, stop=never, heal_at=heal_at)
        assert same.text == plain.text and same.prompt_tokens == len(ids)
    alone = engine.generate(ids[1:2], max_new_tokens=3, stop=never, heal_at=0)  # nothing left
    assert alone.prompt_tokens == 1
