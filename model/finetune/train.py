"""The training loop of ``kodama fine-tune``: LoRA (peft), top layers or all parameters, driven
by accelerate so the same code runs on a laptop CPU and under ``accelerate launch`` on GPUs.

- :func:`make_trainable` turns the loaded model into what is trained.
- :func:`plan` sizes the run from the data and a measured step (:func:`measure_step`).
- :func:`train` runs it: periodic validation, early stopping with patience, the best weights
  kept, a checkpoint every few steps (and on Ctrl-C) written atomically, and ``resume`` from
  the last one. Each process takes its own share of every optimiser step's sequences.
- :func:`save_trained` / :func:`apply_trained` write and read what was learned (a peft
  adapter folder, or the trained tensors of the other methods).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from kodama.model.finetune.data import IGNORE_INDEX, Sequence_
from kodama.server.config import FineTuneConfig

DEFAULT_LEARNING_RATES = {"lora": 5e-4, "top": 1e-4, "full": 2e-5}
TRAINED_FILE = "trained.safetensors"
"""Trained tensors of the ``top`` and ``full`` methods (peft writes its own files for LoRA)."""
STATE_FILE = "state.json"


class Interrupted(Exception):
    """Training stopped by Ctrl-C after saving a checkpoint; ``--resume`` continues it."""

    def __init__(self, step: int) -> None:
        """``step``: optimiser steps done and saved."""
        super().__init__(f"interrupted after step {step}; the checkpoint is saved")
        self.step = step


# ---------------------------------------------------------------------- the model
@contextmanager
def _peft_quietly() -> Iterator[None]:
    """peft asks the model ``is_gradient_checkpointing``, which transformers 5 deprecates with
    a FutureWarning the user can do nothing about; it is silenced here, and only here."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*",
                                category=FutureWarning)
        yield


def _any_process(accelerator: Any, flag: bool) -> bool:
    """``flag`` of any process: a decision every process must take together (each one's
    clock differs, and a validation is collective)."""
    if accelerator.num_processes == 1:
        return flag
    mark = torch.tensor([float(flag)], device=accelerator.device)
    return bool(accelerator.reduce(mark, reduction="max").item() > 0)


def make_trainable(model: Any, config: FineTuneConfig, adapter: Path | None = None) -> Any:
    """The model ready to train with ``config.method``; with LoRA, ``adapter`` (an installed
    adapter folder) is the starting point instead of a fresh one (continual learning)."""
    if config.method == "lora":
        from peft import LoraConfig, PeftModel, get_peft_model

        with _peft_quietly():
            if adapter is not None:
                return PeftModel.from_pretrained(model, str(adapter), is_trainable=True)
            lora = LoraConfig(r=config.lora_rank, lora_alpha=config.lora_alpha,
                              lora_dropout=config.dropout, target_modules="all-linear",
                              bias="none", task_type="CAUSAL_LM")
            return get_peft_model(model, lora)
    for parameter in model.parameters():
        parameter.requires_grad = config.method == "full"
    if config.method == "top":
        layers = model.model.layers
        for layer in layers[max(0, len(layers) - config.top_layers):]:
            for parameter in layer.parameters():
                parameter.requires_grad = True
        for parameter in model.model.norm.parameters():
            parameter.requires_grad = True
    if adapter is not None:
        apply_trained(model, adapter)
    return model


def trainable_parameters(model: Any) -> tuple[int, int]:
    """(trainable, total) parameter counts."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return trainable, sum(p.numel() for p in model.parameters())


def save_trained(model: Any, folder: Path, method: str,
                 weights: dict[str, Any] | None = None) -> None:
    """Write what was learned into ``folder`` (created): the peft adapter, or the trained
    tensors in the base model's float type. ``weights``: the full state dict, when it had to
    be gathered from several processes (FSDP); else the model's own."""
    folder.mkdir(parents=True, exist_ok=True)
    if method == "lora":
        if weights is None:
            model.save_pretrained(str(folder))
        else:
            model.save_pretrained(str(folder), state_dict=weights)
        return
    from safetensors.torch import save_file

    dtype = next(p for p in model.parameters()).dtype
    weights = weights if weights is not None else dict(model.state_dict())
    tensors = {name: weights[name].detach().to(
                   "cpu", dtype=torch.bfloat16 if dtype == torch.float32 else dtype).contiguous()
               for name, p in model.named_parameters() if p.requires_grad}
    save_file(tensors, str(folder / TRAINED_FILE))
    (folder / "kodama-method.json").write_text(json.dumps({"method": method}), encoding="utf-8")


def apply_trained(model: Any, folder: Path) -> Any:
    """``model`` with what :func:`save_trained` wrote applied (LoRA merged into the weights, so
    serving runs at the base model's speed); returns the model to use."""
    if (folder / "adapter_config.json").is_file():
        from peft import PeftModel

        with _peft_quietly():
            return PeftModel.from_pretrained(model, str(folder)).merge_and_unload()
    if (folder / TRAINED_FILE).is_file():
        from safetensors.torch import load_file

        tensors = load_file(str(folder / TRAINED_FILE))
        names = dict(model.named_parameters())
        unknown = [name for name in tensors if name not in names]
        if unknown:
            raise ValueError(f"{folder}: {len(unknown)} trained tensors do not belong to this "
                             f"model (first: {unknown[0]}); it was trained on another model")
        with torch.no_grad():
            for name, tensor in tensors.items():
                names[name].copy_(tensor.to(names[name].dtype))
        return model
    raise ValueError(f"{folder} holds no adapter (adapter_config.json or {TRAINED_FILE})")


# ---------------------------------------------------------------------- batches
def collate(sequences: Sequence[Sequence_], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-padded tensors of ``sequences`` (no loss and no attention on padding)."""
    width = max(len(s.ids) for s in sequences)
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    labels = torch.full((len(sequences), width), IGNORE_INDEX, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, sequence in enumerate(sequences):
        n = len(sequence.ids)
        ids[row, :n] = torch.tensor(sequence.ids)
        labels[row, :n] = torch.tensor(sequence.labels)
        mask[row, :n] = 1
    return {"input_ids": ids, "labels": labels, "attention_mask": mask}


def batch_loss(model: Any, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, int]:
    """Mean cross-entropy over the tokens that carry loss, and how many there are.

    Only the positions that predict a labelled token go through the output layer (a FIM
    example has a few dozen of them among hundreds): the 150k-word vocabulary head then costs
    a fraction of a full forward pass.
    """
    labels = batch["labels"]
    targets = labels[:, 1:]
    keep = (targets != IGNORE_INDEX).any(dim=0).nonzero().flatten()
    if keep.numel() == 0:
        zero = sum(p.sum() for p in model.parameters() if p.requires_grad) * 0.0
        return zero, 0
    out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                logits_to_keep=keep)
    chosen = targets[:, keep]
    loss = torch.nn.functional.cross_entropy(
        out.logits.float().reshape(-1, out.logits.shape[-1]), chosen.reshape(-1),
        ignore_index=IGNORE_INDEX)
    return loss, int((chosen != IGNORE_INDEX).sum())


def _order(count: int, seed: int, epoch: int) -> list[int]:
    generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    return [int(i) for i in torch.randperm(count, generator=generator)]


def batch_indices(count: int, seed: int, micro_step: int, batch_size: int, rank: int,
                  world: int) -> list[int]:
    """Which sequences process ``rank`` of ``world`` trains on at global ``micro_step``: every
    process takes a different share, epochs reshuffle, and the answer depends only on the
    arguments (so a resumed run continues exactly where it stopped)."""
    first = (micro_step * world + rank) * batch_size
    indices = []
    for slot in range(first, first + batch_size):
        epoch, position = divmod(slot, count)
        indices.append(_order(count, seed, epoch)[position])
    return indices


def mean_loss(model: Any, sequences: Sequence[Sequence_], pad_id: int, accelerator: Any,
              batch_size: int = 1) -> float:
    """Mean per-token loss over ``sequences`` (shared between processes); NaN when empty."""
    model.eval()
    total = torch.zeros(2, dtype=torch.float64, device=accelerator.device)
    mine = list(sequences)[accelerator.process_index::accelerator.num_processes]
    with torch.no_grad():
        for start in range(0, len(mine), batch_size):
            chunk = mine[start:start + batch_size]
            batch = {k: v.to(accelerator.device) for k, v in collate(chunk, pad_id).items()}
            loss, tokens = batch_loss(model, batch)
            total[0] += float(loss) * tokens
            total[1] += tokens
    total = accelerator.reduce(total, reduction="sum")
    model.train()
    return float(total[0] / total[1]) if float(total[1]) else math.nan


# ---------------------------------------------------------------------- planning
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


def measure_step(model: Any, sequences: Sequence[Sequence_], config: FineTuneConfig,
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


# ---------------------------------------------------------------------- training
@dataclass
class State:
    """Progress of a run, saved with every checkpoint."""

    step: int = 0
    best_step: int = 0
    best_loss: float = math.inf
    bad_evals: int = 0
    tokens: int = 0
    seconds: float = 0.0
    history: list[dict[str, float]] = field(default_factory=list)
    """``{"step", "train_loss"}`` and ``{"step", "validation_loss"}`` points."""
    finished: str = ""
    """Why training ended (empty while it runs)."""

    def save(self, path: Path) -> None:
        """Write atomically."""
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=1), encoding="utf-8")
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> State:
        """The saved state."""
        return cls(**json.loads(path.read_text(encoding="utf-8")))


Log = Callable[[State, dict[str, float]], None]


def _keep_best(accelerator: Any, model: Any, run_dir: Path, method: str) -> None:
    """Save the weights now as the best ones (``run_dir/best``). Every process calls it:
    gathering the weights is collective when FSDP shards them; the main process writes."""
    weights = accelerator.get_state_dict(model)
    if accelerator.is_main_process:
        _replace_dir(run_dir / "best", lambda d: save_trained(
            accelerator.unwrap_model(model), d, method, weights))
    accelerator.wait_for_everyone()


def _checkpoint(accelerator: Any, state: State, run_dir: Path) -> None:
    """Save optimiser, scheduler, RNG and trained weights, then the state, atomically: the
    previous checkpoint is replaced only once the new one is complete."""
    accelerator.wait_for_everyone()
    target = run_dir / "checkpoint"
    fresh = run_dir / "checkpoint.new"
    if accelerator.is_main_process:
        shutil.rmtree(fresh, ignore_errors=True)
    accelerator.wait_for_everyone()
    accelerator.save_state(str(fresh))
    if accelerator.is_main_process:
        state.save(fresh / STATE_FILE)
        old = run_dir / "checkpoint.old"
        shutil.rmtree(old, ignore_errors=True)
        if target.exists():
            os.rename(target, old)
        os.rename(fresh, target)
        shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()


def train(model: Any, train_set: Sequence[Sequence_], validation: Sequence[Sequence_],
          config: FineTuneConfig, run_plan: Plan, run_dir: Path, accelerator: Any, *,
          pad_id: int, resume: bool = False, checkpoint_every: int = 25,
          on_log: Log | None = None, state: State | None = None) -> State:
    """Train ``model`` (already :func:`make_trainable`) for ``run_plan.steps`` optimiser steps.

    Validation every ``run_plan.eval_every`` steps; a better validation loss saves the weights
    to ``run_dir/best``; ``config.patience`` validations without one stop the run. A
    checkpoint is written every ``checkpoint_every`` steps and on Ctrl-C (then
    :class:`Interrupted` is raised); ``resume`` continues from ``run_dir/checkpoint``.
    ``state`` carries earlier points into the history; its ``best_loss``, when finite, is the
    validation loss before training, which the first kept weights must beat.
    ``accelerator`` must have been made with ``gradient_accumulation_steps`` =
    ``config.gradient_accumulation``.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    params = [p for p in model.parameters() if p.requires_grad]
    if config.optimizer == "adamw":
        optimizer: torch.optim.Optimizer = torch.optim.AdamW(
            params, lr=run_plan.learning_rate, weight_decay=config.weight_decay)
    else:
        optimizer = torch.optim.SGD(params, lr=run_plan.learning_rate, momentum=0.9,
                                    weight_decay=config.weight_decay)
    warmup = max(1, round(run_plan.steps * config.warmup))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, run_plan.steps - warmup)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    # The scheduler stays unprepared: it steps once per optimiser step, whatever the processes.
    model, optimizer = accelerator.prepare(model, optimizer)
    accelerator.register_for_checkpointing(scheduler)
    state = state or State()
    if resume:
        accelerator.load_state(str(run_dir / "checkpoint"))
        state = State.load(run_dir / "checkpoint" / STATE_FILE)
    if not resume and math.isfinite(state.best_loss):
        # The loss before training is the one to beat: until a validation does, the untrained
        # weights are the best ones (a run that only gets worse installs nothing new).
        _keep_best(accelerator, model, run_dir, config.method)
    accum = config.gradient_accumulation
    model.train()
    started = time.perf_counter() - state.seconds
    # Steps can run slower than the one measured for the plan: training then stops in time,
    # leaving room for a last validation of the weights it reached.
    deadline = config.max_minutes * 60 - run_plan.validation_seconds \
        if config.max_minutes > 0 else math.inf
    running = math.nan
    try:
        while state.step < run_plan.steps and not state.finished:
            step_tokens = 0
            step_loss = 0.0
            for micro in range(accum):
                global_micro = state.step * accum + micro
                picked = [train_set[i] for i in batch_indices(
                    len(train_set), config.seed, global_micro, config.batch_size,
                    accelerator.process_index, accelerator.num_processes)]
                batch = {k: v.to(accelerator.device)
                         for k, v in collate(picked, pad_id).items()}
                with accelerator.accumulate(model):
                    loss, _ = batch_loss(model, batch)
                    accelerator.backward(loss)  # divided by the accumulation steps
                    if accelerator.sync_gradients:
                        accelerator.clip_grad_norm_(params, 1.0)
                    optimizer.step()  # only steps once the accumulation is complete
                    optimizer.zero_grad(set_to_none=True)
                step_loss += float(loss.detach()) / accum
                step_tokens += sum(len(s.ids) for s in picked)
            scheduler.step()
            state.step += 1
            state.tokens += step_tokens * accelerator.num_processes
            state.seconds = time.perf_counter() - started
            running = step_loss if math.isnan(running) else 0.9 * running + 0.1 * step_loss
            state.history.append({"step": state.step, "train_loss": step_loss})
            point = {"train_loss": running, "learning_rate": float(scheduler.get_last_lr()[0])}
            out_of_time = _any_process(accelerator, state.seconds > deadline) \
                if math.isfinite(deadline) else False
            if state.step % run_plan.eval_every == 0 or state.step == run_plan.steps \
                    or out_of_time:
                value = mean_loss(model, validation, pad_id, accelerator, config.batch_size)
                state.history.append({"step": state.step, "validation_loss": value})
                point["validation_loss"] = value
                if value < state.best_loss - 1e-4:
                    state.best_loss, state.best_step, state.bad_evals = value, state.step, 0
                    _keep_best(accelerator, model, run_dir, config.method)
                else:
                    state.bad_evals += 1
                    if state.bad_evals >= config.patience:
                        state.finished = (f"early stop: no better validation loss in "
                                          f"{config.patience} validations")
            if out_of_time and not state.finished:
                state.finished = "time budget reached"
            if on_log is not None:
                on_log(state, point)
            if state.step % checkpoint_every == 0 and not state.finished:
                _checkpoint(accelerator, state, run_dir)
    except KeyboardInterrupt:
        _checkpoint(accelerator, state, run_dir)
        raise Interrupted(state.step) from None
    if not state.finished:
        state.finished = f"planned steps done ({run_plan.steps})"
    if not (run_dir / "best").exists():
        _keep_best(accelerator, model, run_dir, config.method)
    _checkpoint(accelerator, state, run_dir)
    return state


def _replace_dir(target: Path, write: Callable[[Path], None]) -> None:
    """Write a folder next to ``target`` and swap it in, so ``target`` is always complete."""
    fresh = target.with_name(target.name + ".new")
    shutil.rmtree(fresh, ignore_errors=True)
    write(fresh)
    old = target.with_name(target.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        os.rename(target, old)
    os.rename(fresh, target)
    shutil.rmtree(old, ignore_errors=True)
