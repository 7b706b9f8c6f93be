"""Sizing a fine-tune: epochs, the step cap and the time budget; the memory estimate (golden
numbers for the 0.5B model) and the plan that fits a memory budget, or says what would."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from kodama.model.config import FineTuneConfig
from kodama.model.finetune import planning


def test_auto_epochs_scale_with_the_data() -> None:
    assert planning.auto_epochs(10_000) == 3.0
    assert planning.auto_epochs(150_000) == 2.0
    assert planning.auto_epochs(3_000_000) == 1.0


def test_plan_respects_epochs_the_step_cap_and_the_time_budget() -> None:
    config = FineTuneConfig(gradient_accumulation=4, max_minutes=0, epochs=2)
    free = planning.plan(config, sequences=400, train_tokens=200_000, step_seconds=20)
    assert (free.steps, free.limited_by) == (200, "epochs")
    assert free.epochs == pytest.approx(2.0)
    assert free.eval_every == math.ceil(200 / 6)
    capped = planning.plan(FineTuneConfig(max_steps=50, max_minutes=0, epochs=2), 400, 1, 20)
    assert (capped.steps, capped.limited_by) == (50, "max_steps")
    timed = planning.plan(FineTuneConfig(max_minutes=10, epochs=2), 400, 1, step_seconds=20,
                        validation_sequences=16)
    assert timed.limited_by == "time budget"
    assert timed.seconds <= 10 * 60 + 1e-6
    assert timed.seconds > 10 * 60 - 20 - timed.validation_seconds  # it uses the budget
    assert timed.learning_rate == planning.DEFAULT_LEARNING_RATES["lora"]
    assert planning.plan(FineTuneConfig(learning_rate=1e-3), 10, 1, 1).learning_rate == 1e-3


# The 0.5B Qwen2.5 coder in bfloat16: 24 layers of width 896 (MLP 4,864, 2 KV heads of 64),
# 151,936 words; a layer holds 14,912,384 parameters, the model 494,032,768.
QWEN_05B = planning.ModelShape(
    parameters=494_032_768, weight_bytes=2 * 494_032_768, element_bytes=2, layers=24,
    width=896, mlp_width=4864, vocabulary=151_936, layer_parameters=14_912_384,
    linear_sides=24 * (2 * 896 + 2 * (896 + 128) + 2 * 896 + 2 * (896 + 4864) + 4864 + 896))


def test_the_memory_estimate_of_each_part_golden() -> None:
    lora = planning.estimate(QWEN_05B, FineTuneConfig(), text_tokens=300_000)
    assert lora.parts == {
        "weights": 988_065_536,
        "trained": 140_771_328,  # 16 × 549,888 adapter parameters × 16 bytes (float32 AdamW)
        "activations": 1_571_225_600,  # 512 tokens × 25 layers × (61 × 896 + 14 × 4,864) bytes
        "logits": 545_456_128,  # 256 × 151,936 × 14 bytes, and the 512 hidden states
        "data": 45_000_000, "runtime": 600_000_000, "evaluation": 988_065_536}
    assert lora.peak == 3_890_518_592 == sum(lora.parts.values()) - lora.parts["evaluation"]
    checkpointed = planning.estimate(QWEN_05B, FineTuneConfig(gradient_checkpointing=1),
                                     text_tokens=300_000)
    # Only each layer's input is kept (512 × 24 × 896 × 2 bytes), plus two layers' worth.
    assert checkpointed.parts["activations"] == 147_718_144
    assert checkpointed.peak == 2_621_131_072  # the evaluation's copy of the model sets it
    assert checkpointed.peak_parts().keys() == {"weights", "evaluation", "data", "runtime"}
    top = planning.estimate(QWEN_05B, FineTuneConfig(method="top"), text_tokens=300_000)
    assert top.parts["trained"] == (4 * 14_912_384 + 896) * 6
    full = planning.estimate(QWEN_05B, FineTuneConfig(method="full", batch_size=4))
    assert (full.parts["trained"], full.parts["activations"]) == (2_964_196_608, 2_955_673_600)
    assert full.peak == 8_056_144_384


def test_the_memory_plan_takes_the_fastest_way_to_fit() -> None:
    config = FineTuneConfig(batch_size=4, gradient_accumulation=1)

    def fitted(gigabytes: float) -> tuple[int, int, int, int]:
        memory = planning.fit_memory(QWEN_05B, config, int(gigabytes * 1e9), 300_000)
        assert memory.peak <= memory.budget
        return (memory.batch_size, memory.gradient_accumulation, memory.sequence_tokens,
                memory.gradient_checkpointing)

    assert fitted(16) == (4, 1, 512, 0)  # as configured
    assert fitted(6) == (2, 2, 512, 0)  # smaller batches, the same tokens per step
    assert fitted(4) == (1, 4, 512, 0)
    assert fitted(3.5) == (1, 4, 512, 2)  # then checkpointing, every other layer
    assert fitted(3) == (4, 1, 512, 1)  # every layer: four sequences fit again
    forced = planning.fit_memory(QWEN_05B, FineTuneConfig(gradient_checkpointing=0),
                                 int(3e9), 300_000)
    assert (forced.sequence_tokens, forced.gradient_checkpointing) == (128, 0)  # shorter
    assert forced.gradient_accumulation == 16  # 4 × 512 tokens per step, still
    again = planning.fitted(config, forced)
    assert (again.batch_size, again.sequence_tokens, again.gradient_checkpointing) == (1, 128, 0)
    assert "memory: ~2.6 GB at most (estimated: weights 1.0, " in forced.summary()
    assert "of 3.0 GB allowed (--max-memory); gradient checkpointing off" in forced.summary()


def test_a_budget_nothing_fits_says_what_would() -> None:
    with pytest.raises(planning.MemoryTooSmall) as caught:
        planning.fit_memory(QWEN_05B, FineTuneConfig(max_memory=2), int(2e9), 300_000)
    assert str(caught.value) == (
        "fine-tuning this 0.5B-parameter model (lora) needs at least 2.7 GB (weights 1.0, "
        "evaluation 1.0, runtime 0.6 GB), even with 128-token sequences, one per pass, "
        "gradient checkpointing on every layer; it may use 2.0 GB (--max-memory 2). Pass "
        "--max-memory 2.7 if this machine has that much free (close other programs first), "
        "or train a smaller model (--model smollm2-135m)")
    with pytest.raises(planning.MemoryTooSmall, match=r"needs at least 5\.1 GB .* gradient "
                       r"checkpointing off \(--gradient-checkpointing 1 turns it on\); it may "
                       r"use 4\.0 GB \(60% of the memory available now\).* or --method lora$"):
        planning.fit_memory(QWEN_05B, FineTuneConfig(method="full", gradient_checkpointing=0),
                            int(4e9))


def test_the_shape_of_the_tiny_model_predicts_what_each_method_trains(
        tiny_model_dir: Path) -> None:
    from kodama.model.finetune.adapter import make_trainable, trainable_parameters
    from kodama.model.loader import load_model

    for method in ("lora", "top", "full"):
        config = FineTuneConfig(method=method, top_layers=1)  # type: ignore[arg-type]
        model = load_model(str(tiny_model_dir), dtype="float32").model
        shape = planning.model_shape(model)
        assert (shape.layers, shape.width, shape.element_bytes) == (2, 64, 4)
        assert shape.weight_bytes == 4 * shape.parameters
        trained, total = trainable_parameters(make_trainable(model, config))
        assert planning.trained_parameters(shape, config) == trained, method
        assert total >= shape.parameters


def test_the_default_budget_is_a_share_of_the_available_memory(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import psutil

    class Memory:
        available = 10 * planning.GB

    class Resident:
        rss = 2 * planning.GB

    monkeypatch.setattr(psutil, "virtual_memory", lambda: Memory())
    monkeypatch.setattr(psutil.Process, "memory_info", lambda self: Resident())
    assert planning.memory_budget(FineTuneConfig()) == int(12 * planning.GB * 0.6)
    assert planning.memory_budget(FineTuneConfig(), "cpu", processes=2) \
        == int(12 * planning.GB * 0.6) // 2
    assert planning.memory_budget(FineTuneConfig(max_memory=3.5)) == 3_500_000_000
