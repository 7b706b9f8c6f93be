"""How long a fine-tune runs: the steps, epochs and learning rate, sized from the data and one
measured training step to fit the time budget."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kodama.model.config import FineTuneConfig
from kodama.model.finetune.batches import batch_loss, collate
from kodama.model.finetune.data import PackedSequence

DEFAULT_LEARNING_RATES = {"lora": 5e-4, "top": 1e-4, "full": 2e-5}


@dataclass
class Plan:
    """How long the run will be."""

    steps: int
    """Optimiser steps."""
    epochs: float
    """Passes over the training sequences those steps make."""
    eval_every: int
    learning_rate: float
    step_seconds: float
    """Measured wall time of one optimiser step (all its forward/backward passes)."""
    limited_by: str
    """What decided the step count: ``epochs``, ``max_steps`` or ``time budget``."""

    validation_seconds: float = 0.0
    """Estimated wall time of one validation."""

    @property
    def seconds(self) -> float:
        """Estimated training time, validations included."""
        return self.steps * self.step_seconds + self.validations * self.validation_seconds

    @property
    def validations(self) -> int:
        """How many validations the plan makes."""
        return math.ceil(self.steps / self.eval_every)


def auto_epochs(train_tokens: int) -> float:
    """Default passes over the data: 3 for tiny repositories, down to 1 from ~300k tokens."""
    return max(1.0, min(3.0, 300_000 / max(train_tokens, 1)))


def plan(config: FineTuneConfig, sequences: int, train_tokens: int, step_seconds: float,
         processes: int = 1, validation_sequences: int = 0, validations: int = 6,
         continued: bool = False) -> Plan:
    """Steps from the configured epochs (or :func:`auto_epochs`), capped by ``max_steps`` and
    by what fits in ``max_minutes`` at ``step_seconds`` per step, with ``validations``
    validations of ``validation_sequences`` sequences (a forward pass costs about 45 % of a
    training pass) in the same budget. Training that ``continued`` from an installed adapter
    gets half the default learning rate (it refines, and should not forget)."""
    per_step = config.batch_size * config.gradient_accumulation * processes
    epochs = config.epochs if config.epochs is not None else auto_epochs(train_tokens)
    steps = max(1, math.ceil(sequences * epochs / per_step))
    limited = "epochs"
    if config.max_steps is not None and config.max_steps < steps:
        steps, limited = max(1, config.max_steps), "max_steps"
    per_sequence = step_seconds / max(1, config.batch_size * config.gradient_accumulation)
    validation_seconds = 0.45 * per_sequence * validation_sequences / max(1, processes)
    if config.max_minutes > 0 and step_seconds > 0:
        room = config.max_minutes * 60 - validations * validation_seconds
        fits = int(max(room, 0) / step_seconds)
        if fits < steps:
            steps, limited = max(1, fits), "time budget"
    every = config.eval_every or max(1, math.ceil(steps / validations))
    rate = config.learning_rate or DEFAULT_LEARNING_RATES[config.method] * (
        0.5 if continued else 1.0)
    return Plan(steps, steps * per_step / max(sequences, 1), every, rate, step_seconds,
                limited, validation_seconds)


def measure_step(model: Any, sequences: Sequence[PackedSequence], config: FineTuneConfig,
                 pad_id: int, device: Any = "cpu", samples: int = 3) -> float:
    """Seconds of one optimiser step: forward + backward of ``samples`` batches spread over
    the training sequences (after one warm-up pass), times ``gradient_accumulation``.
    Gradients are cleared afterwards."""
    spread = [sequences[round(i * (len(sequences) - 1) / max(1, samples))]
              for i in range(samples + 1)]
    model.train()
    timings = []
    for index in range(len(spread)):
        chunk = spread[index:index + 1] * config.batch_size
        batch = {k: v.to(device) for k, v in collate(chunk, pad_id).items()}
        started = time.perf_counter()
        batch_loss(model, batch)[0].backward()  # type: ignore[no-untyped-call]
        timings.append(time.perf_counter() - started)
    model.zero_grad(set_to_none=True)
    measured = timings[1:] or timings
    return sum(measured) / len(measured) * config.gradient_accumulation
