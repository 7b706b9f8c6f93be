"""How a fine-tune runs: the steps, epochs and learning rate, sized from the data and one
measured training step to fit the time budget; and the batch size, sequence length and
gradient checkpointing, chosen from an estimate of the peak memory to fit the memory budget."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import torch

from kodama.model.config import FineTuneConfig
from kodama.model.finetune.batches import LOSS_CHUNK_ROWS, batch_loss, collate
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


# ------------------------------------------------------------------------ memory
GB = 1_000_000_000
DEFAULT_MEMORY_SHARE = 0.6
"""Share of the memory available when the run starts that training may take by default."""
MIN_SEQUENCE_TOKENS = 128
"""The shortest packed sequence the memory plan falls back to."""
CHECKPOINT_CHOICES = (0, 4, 2, 1)
"""Gradient checkpointing the memory plan tries, cheapest first: none, then every 4th, every
2nd and every decoder layer."""
ACTIVATION_BYTES = {("adapter", 4): (66, 20), ("adapter", 2): (61, 14),
                    ("weights", 4): (34, 16), ("weights", 2): (21, 8)}
"""Bytes a trained decoder layer keeps for the backward pass per token, per unit of width and
per unit of MLP width, by what is trained (LoRA adapters or the weights) and the weights'
element size. Measured (saved tensors of Qwen2 layers, SDPA attention, rank-16 LoRA with
dropout, on torch 2.13 / transformers 5): the 0.5B model's LoRA layer keeps 156 kB per token
in float32 and 123 kB in bfloat16."""
LOGIT_BYTES = 12
"""Bytes per logit of a loss chunk beyond its element size: the float32 copy, its log-softmax
and its gradient."""
CHARS_PER_TOKEN = 3
"""Characters of source code per token, about (for the data's size before it is tokenised)."""
DATA_BYTES_PER_TOKEN = 150
"""Memory per token of the repository's text: the text, and the packed sequences made of it
(about twice as many tokens, each an id and a label held as Python ints in lists)."""
RUNTIME_BYTES = 600_000_000
"""Python, torch, the tokenizer and the allocator's slack."""
OPTIMIZER_MOMENTS = {"adamw": 2, "sgd": 1}


@dataclass(frozen=True)
class ModelShape:
    """What the memory estimate reads of a model."""

    parameters: int
    weight_bytes: int
    """Bytes of all weights as loaded."""
    element_bytes: int
    """Bytes of one weight (4 float32, 2 bfloat16)."""
    layers: int
    width: int
    mlp_width: int
    vocabulary: int
    layer_parameters: int
    """Parameters of one decoder layer."""
    linear_sides: int
    """Inputs plus outputs of the decoder's linear layers: a rank-r LoRA adapts r × this."""


@dataclass(frozen=True)
class MemoryPlan:
    """How a run fits its memory budget, and its estimated peak by part (bytes)."""

    batch_size: int
    gradient_accumulation: int
    sequence_tokens: int
    gradient_checkpointing: int
    """Every n-th decoder layer recomputed in the backward pass (0: none)."""
    parts: dict[str, int]
    budget: int

    @property
    def peak(self) -> int:
        """Estimated peak bytes: the training step's or the evaluation's, the larger."""
        return sum(self.peak_parts().values())

    def peak_parts(self) -> dict[str, int]:
        """The parts of the peak: the training step's (every part but the evaluation's copy of
        the model), or the evaluation's (that copy next to the weights, data and runtime)."""
        training = {k: v for k, v in self.parts.items() if k != "evaluation"}
        evaluation = {k: self.parts[k] for k in ("weights", "evaluation", "data", "runtime")}
        return max(training, evaluation, key=lambda parts: sum(parts.values()))

    def to_json(self) -> dict[str, Any]:
        """The plan as data, its estimated peak included."""
        return {**asdict(self), "peak": self.peak}

    def summary(self) -> str:
        """One line for the user: the estimated peak against the budget, and the checkpointing."""
        return (f"memory: ~{self.peak / GB:.1f} GB at most (estimated: {_listed(self)}) of "
                f"{self.budget / GB:.1f} GB allowed (--max-memory); gradient checkpointing "
                f"{_checkpointing(self.gradient_checkpointing)}")


def _checkpointing(every: int) -> str:
    """Gradient checkpointing of every ``every``-th layer, in words."""
    return "off" if every <= 0 else "on every layer" if every == 1 \
        else f"on 1 layer in {every}"


def _listed(memory: MemoryPlan) -> str:
    """The parts of ``memory``'s peak, largest first, in GB (those under 0.05 GB left out)."""
    ordered = sorted(memory.peak_parts().items(), key=lambda item: -item[1])
    return ", ".join(f"{name} {value / GB:.1f}" for name, value in ordered if value >= GB / 20)


class MemoryTooSmall(ValueError):
    """No batch size, sequence length and checkpointing fit the memory budget."""


def trained_parameters(shape: ModelShape, config: FineTuneConfig) -> int:
    """Parameters ``config.method`` trains."""
    if config.method == "lora":
        return config.lora_rank * shape.linear_sides
    if config.method == "top":
        return min(config.top_layers, shape.layers) * shape.layer_parameters + shape.width
    return shape.parameters


def estimate(shape: ModelShape, config: FineTuneConfig, text_tokens: int = 0,
             budget: int = 0) -> MemoryPlan:
    """The estimated peak of training with ``config``'s batch size, sequence length and
    gradient checkpointing (None: none): the weights; the trained parameters, their gradients
    and the optimiser's moments; what the trained decoder layers keep for the backward pass
    (with checkpointing only their inputs, plus one layer recomputed), and one layer's worth
    of gradients in flight; a chunk of logits; the data (``text_tokens`` of repository text); the
    runtime; and, instead of the training step, the evaluation's copy of the model (bfloat16,
    before it is quantised)."""
    e, trained = shape.element_bytes, trained_parameters(shape, config)
    kind = "adapter" if config.method == "lora" else "weights"
    per_width, per_mlp = ACTIVATION_BYTES[(kind, 4 if e >= 4 else 2)]
    layer = per_width * shape.width + per_mlp * shape.mlp_width
    tokens = config.batch_size * config.sequence_tokens
    active = shape.layers if config.method != "top" else min(config.top_layers, shape.layers)
    every = config.gradient_checkpointing or 0
    recomputed = math.ceil(active / every) if every > 0 else 0
    kept = (active - recomputed) * layer + recomputed * shape.width * e
    working = (2 if recomputed else 1) * layer
    moments = OPTIMIZER_MOMENTS[config.optimizer]
    # LoRA adapters train in float32: weight, gradient, moments; a trained weight is among
    # the weights already: its gradient and moments, in its own type.
    per_trained = 4 * (2 + moments) if config.method == "lora" else e * (1 + moments)
    rows = min(LOSS_CHUNK_ROWS, tokens)
    parts = {
        "weights": shape.weight_bytes,
        "trained": trained * per_trained,
        "activations": tokens * (kept + working),
        "logits": rows * shape.vocabulary * (e + LOGIT_BYTES) + tokens * shape.width * e,
        "data": text_tokens * DATA_BYTES_PER_TOKEN,
        "runtime": RUNTIME_BYTES,
        "evaluation": 2 * shape.parameters,
    }
    return MemoryPlan(config.batch_size, config.gradient_accumulation, config.sequence_tokens,
                      every, parts, budget)


def _halvings(start: int, floor: int) -> list[int]:
    """``start``, then halved while it stays at least ``floor`` (``start`` alone if below)."""
    values = [start]
    while values[-1] // 2 >= floor:
        values.append(values[-1] // 2)
    return values


def fit_memory(shape: ModelShape, config: FineTuneConfig, budget: int,
               text_tokens: int = 0) -> MemoryPlan:
    """The fastest way to train within ``budget`` bytes: the configured batch size and sequence
    length without checkpointing if they fit; else smaller batches (more accumulation, the
    same tokens per optimiser step), then gradient checkpointing (every 4th, 2nd, then every
    layer; only the configured one when ``config.gradient_checkpointing`` is set), and only
    then shorter sequences (down to :data:`MIN_SEQUENCE_TOKENS`). :class:`MemoryTooSmall`,
    saying how much the smallest plan needs, when nothing fits."""
    step_tokens = config.batch_size * config.gradient_accumulation * config.sequence_tokens
    choices = CHECKPOINT_CHOICES if config.gradient_checkpointing is None \
        else (config.gradient_checkpointing,)
    smallest = None
    for sequence in _halvings(config.sequence_tokens, MIN_SEQUENCE_TOKENS):
        for every in choices:
            for batch in _halvings(config.batch_size, 1):
                accumulation = max(config.gradient_accumulation,
                                   math.ceil(step_tokens / (batch * sequence)))
                smallest = estimate(shape, replace(
                    config, batch_size=batch, gradient_accumulation=accumulation,
                    sequence_tokens=sequence, gradient_checkpointing=every), text_tokens, budget)
                if smallest.peak <= budget:
                    return smallest
    assert smallest is not None
    raise MemoryTooSmall(_too_small(shape, config, smallest))


def _too_small(shape: ModelShape, config: FineTuneConfig, smallest: MemoryPlan) -> str:
    """What the smallest plan needs, and what to do."""
    need = math.ceil(smallest.peak / GB * 10) / 10
    given = f"--max-memory {config.max_memory:g}" if config.max_memory > 0 \
        else f"{DEFAULT_MEMORY_SHARE:.0%} of the memory available now"
    checkpointing = "gradient checkpointing " + _checkpointing(smallest.gradient_checkpointing) \
        + ("" if smallest.gradient_checkpointing else " (--gradient-checkpointing 1 turns it on)")
    other = ", or --method lora" if config.method != "lora" else ""
    size = f"{shape.parameters / 1e9:.1f}B" if shape.parameters >= 1e8 \
        else f"{shape.parameters / 1e6:.1f}M"
    return (f"fine-tuning this {size}-parameter model ({config.method}) "
            f"needs at least {need:.1f} GB ({_listed(smallest)} GB), even with "
            f"{smallest.sequence_tokens}-token sequences, one per pass, {checkpointing}; it "
            f"may use {smallest.budget / GB:.1f} GB ({given}). Pass --max-memory {need:g} if "
            "this machine has that much free (close other programs first), or train a smaller "
            f"model (--model smollm2-135m){other}")


def fitted(config: FineTuneConfig, memory: MemoryPlan) -> FineTuneConfig:
    """``config`` with the batch size, accumulation, sequence length and checkpointing of
    ``memory``."""
    return replace(config, batch_size=memory.batch_size,
                   gradient_accumulation=memory.gradient_accumulation,
                   sequence_tokens=memory.sequence_tokens,
                   gradient_checkpointing=memory.gradient_checkpointing)


def memory_budget(config: FineTuneConfig, device: Any = "cpu", processes: int = 1) -> int:
    """Bytes one training process may take: ``config.max_memory`` GB, or (0)
    :data:`DEFAULT_MEMORY_SHARE` of what this process could have now (the machine's available
    memory plus what it holds; a GPU's free memory on a GPU), shared by the processes of a
    CPU run."""
    import psutil

    if config.max_memory > 0:
        total = int(config.max_memory * GB)
    elif torch.device(device).type == "cuda":
        return int(torch.cuda.mem_get_info(torch.device(device))[0] * DEFAULT_MEMORY_SHARE)
    else:
        total = int((psutil.virtual_memory().available + psutil.Process().memory_info().rss)
                    * DEFAULT_MEMORY_SHARE)
    return total // max(1, processes) if torch.device(device).type == "cpu" else total


def model_shape(model: Any) -> ModelShape:
    """The :class:`ModelShape` of a loaded Hugging Face decoder model."""
    params = list(model.parameters())
    config = model.config
    layers = model.get_decoder().layers
    linear = [m for m in layers[0].modules() if isinstance(m, torch.nn.Linear)]
    return ModelShape(
        parameters=sum(p.numel() for p in params),
        weight_bytes=sum(p.numel() * p.element_size() for p in params),
        element_bytes=next(p.element_size() for p in params if p.is_floating_point()),
        layers=len(layers), width=config.hidden_size, mlp_width=config.intermediate_size,
        vocabulary=config.vocab_size,
        layer_parameters=sum(p.numel() for p in layers[0].parameters()),
        linear_sides=len(layers) * sum(m.in_features + m.out_features for m in linear))
