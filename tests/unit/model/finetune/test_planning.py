"""Sizing a fine-tune: epochs, the step cap and the time budget."""

from __future__ import annotations

import math

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
