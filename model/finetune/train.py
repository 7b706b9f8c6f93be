"""The training loop of ``kodama fine-tune``, driven by accelerate so the same code runs on a
laptop CPU and under ``accelerate launch`` on GPUs.

:func:`train` runs a :class:`~kodama.model.finetune.planning.Plan` on a model made trainable by
:func:`~kodama.model.finetune.adapter.make_trainable`: periodic validation, early stopping with
patience, the best weights kept, a checkpoint every few steps (and on Ctrl-C) written
atomically, and ``resume`` from the last one. Each process takes its own share of every
optimiser step's sequences.

A checkpoint and the best weights are each written next to the folder they replace and swapped
in (:func:`~kodama.model.finetune.durable_files.swap_in`): a run killed at any moment keeps a
complete one, which :func:`has_checkpoint` recovers. A full disk stops the run with a
:class:`~kodama.model.finetune.durable_files.DiskFull` that says how much space is needed,
the previous checkpoint intact. Nothing is read back as a pickle that could run code: the
model's weights are safetensors, the optimiser's state is read by torch's weights-only
loader, and the learning-rate schedule is recomputed from the step.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from kodama.model.config import FineTuneConfig
from kodama.model.finetune.adapter import make_trainable, save_trained
from kodama.model.finetune.batches import batch_indices, batch_loss, collate, mean_loss
from kodama.model.finetune.data import PackedSequence
from kodama.model.finetune.durable_files import (
    fault_point,
    recover_swap,
    remove_tree,
    reporting_full_disk,
    swap_in,
    tree_size,
)
from kodama.model.finetune.planning import Plan

# make_trainable and save_trained live in .adapter; they stay importable from here for the
# callers that train.
__all__ = ["BEST", "CHECKPOINT", "STATE_FILE", "Interrupted", "Log", "State", "has_checkpoint",
           "make_trainable", "save_trained", "train"]

STATE_FILE = "state.json"
"""The training state in a checkpoint, written last: its presence marks a complete one."""
CHECKPOINT = "checkpoint"
BEST = "best"
_RESUME_HINT = ("run the same `kodama fine-tune` command again with --resume: training "
                "continues from the last checkpoint, which is intact")


class Interrupted(Exception):
    """Training stopped by Ctrl-C after saving a checkpoint; ``--resume`` continues it."""

    def __init__(self, step: int) -> None:
        """``step``: optimiser steps done and saved."""
        super().__init__(f"interrupted after step {step}; the checkpoint is saved")
        self.step = step


def _any_process(accelerator: Any, flag: bool) -> bool:
    """``flag`` of any process: a decision every process must take together (each one's
    clock differs, and a validation is collective)."""
    if accelerator.num_processes == 1:
        return flag
    mark = torch.tensor([float(flag)], device=accelerator.device)
    return bool(accelerator.reduce(mark, reduction="max").item() > 0)


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
        unwrapped = accelerator.unwrap_model(model)
        needed = tree_size(run_dir / BEST) or sum(
            p.numel() * p.element_size() for p in unwrapped.parameters() if p.requires_grad)
        _replace_dir(run_dir / BEST, lambda d: save_trained(unwrapped, d, method, weights),
                     "the best weights", needed)
    accelerator.wait_for_everyone()


def _checkpoint_bytes(model: Any, run_dir: Path) -> int:
    """About the size of a checkpoint: the previous one's, else the weights plus the
    optimiser's two moments of every trained parameter."""
    previous = tree_size(run_dir / CHECKPOINT)
    if previous:
        return previous
    params = list(model.parameters())
    return int(sum(p.numel() * p.element_size() for p in params)
               + sum(8 * p.numel() for p in params if p.requires_grad))


def _checkpoint(accelerator: Any, state: State, run_dir: Path, model: Any) -> None:
    """Save optimiser, RNG and trained weights, then the state, atomically: the previous
    checkpoint is replaced only once the new one is complete."""
    accelerator.wait_for_everyone()
    target = run_dir / CHECKPOINT
    fresh = run_dir / f"{CHECKPOINT}.new"
    if accelerator.is_main_process:
        remove_tree(fresh)
    accelerator.wait_for_everyone()
    with reporting_full_disk("the checkpoint", run_dir, _checkpoint_bytes(model, run_dir),
                             _RESUME_HINT, partial=fresh):
        accelerator.save_state(str(fresh))
        if accelerator.is_main_process:
            state.save(fresh / STATE_FILE)
    if accelerator.is_main_process:
        swap_in(fresh, target)
    accelerator.wait_for_everyone()


def has_checkpoint(run_dir: Path) -> bool:
    """Whether ``run_dir`` holds a complete checkpoint to resume from, once what a killed run
    left between two renames is recovered (main process only: it moves folders)."""
    for name in (CHECKPOINT, BEST):
        recover_swap(run_dir / f"{name}.new", run_dir / name)
    return (run_dir / CHECKPOINT / STATE_FILE).is_file()


@dataclass
class _Loop:
    """What a run holds while it steps: the prepared model and optimiser, and its inputs."""

    model: Any
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR
    params: list[torch.nn.Parameter]
    accelerator: Any
    config: FineTuneConfig
    run_plan: Plan
    run_dir: Path
    pad_id: int
    train_set: Sequence[PackedSequence]
    validation: Sequence[PackedSequence]


def _optimizer(params: list[torch.nn.Parameter], config: FineTuneConfig,
               learning_rate: float) -> torch.optim.Optimizer:
    if config.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=learning_rate, weight_decay=config.weight_decay)
    return torch.optim.SGD(params, lr=learning_rate, momentum=0.9,
                           weight_decay=config.weight_decay)


def _schedule(optimizer: torch.optim.Optimizer, config: FineTuneConfig,
              steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warm-up over ``config.warmup`` of the steps, then a cosine decay to 10 %."""
    warmup = max(1, round(steps * config.warmup))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, steps - warmup)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def _optimiser_step(loop: _Loop, step: int) -> tuple[float, int]:
    """One optimiser step (``gradient_accumulation`` forward/backward passes) of this process:
    its mean loss and the tokens it saw."""
    accum = loop.config.gradient_accumulation
    accelerator = loop.accelerator
    # Dropout draws from a seed of its own per step and process: a run is reproducible from
    # its seed, and a resumed run draws what the uninterrupted one would have.
    torch.manual_seed((loop.config.seed * 1_000_003 + step) * 64 + accelerator.process_index)
    step_tokens = 0
    step_loss = 0.0
    for micro in range(accum):
        picked = [loop.train_set[i] for i in batch_indices(
            len(loop.train_set), loop.config.seed, step * accum + micro, loop.config.batch_size,
            accelerator.process_index, accelerator.num_processes)]
        batch = {k: v.to(accelerator.device) for k, v in collate(picked, loop.pad_id).items()}
        with accelerator.accumulate(loop.model):
            loss, _ = batch_loss(loop.model, batch)
            accelerator.backward(loss)  # divided by the accumulation steps
            if accelerator.sync_gradients:
                accelerator.clip_grad_norm_(loop.params, 1.0)
            loop.optimizer.step()  # only steps once the accumulation is complete
            loop.optimizer.zero_grad(set_to_none=True)
        step_loss += float(loss.detach()) / accum
        step_tokens += sum(len(s.ids) for s in picked)
    loop.scheduler.step()
    return step_loss, step_tokens


def _validate(loop: _Loop, state: State, point: dict[str, float]) -> None:
    """Validate the weights now: a better loss keeps them as the best, ``patience``
    validations without one finish the run."""
    config = loop.config
    value = mean_loss(loop.model, loop.validation, loop.pad_id, loop.accelerator,
                      config.batch_size)
    state.history.append({"step": state.step, "validation_loss": value})
    point["validation_loss"] = value
    if value < state.best_loss - 1e-4:
        state.best_loss, state.best_step, state.bad_evals = value, state.step, 0
        _keep_best(loop.accelerator, loop.model, loop.run_dir, config.method)
        return
    state.bad_evals += 1
    if state.bad_evals >= config.patience:
        state.finished = f"early stop: no better validation loss in {config.patience} validations"


def _run_steps(loop: _Loop, state: State, checkpoint_every: int, on_log: Log | None) -> None:
    """Step until the plan is done or the run finishes early (patience, time budget)."""
    run_plan, accelerator = loop.run_plan, loop.accelerator
    started = time.perf_counter() - state.seconds
    # Steps can run slower than the one measured for the plan: training then stops in time,
    # leaving room for a last validation of the weights it reached.
    deadline = loop.config.max_minutes * 60 - run_plan.validation_seconds \
        if loop.config.max_minutes > 0 else math.inf
    running = math.nan
    while state.step < run_plan.steps and not state.finished:
        fault_point("step")
        step_loss, step_tokens = _optimiser_step(loop, state.step)
        state.step += 1
        state.tokens += step_tokens * accelerator.num_processes
        state.seconds = time.perf_counter() - started
        running = step_loss if math.isnan(running) else 0.9 * running + 0.1 * step_loss
        state.history.append({"step": state.step, "train_loss": step_loss})
        point = {"train_loss": running,
                 "learning_rate": float(loop.scheduler.get_last_lr()[0])}
        out_of_time = _any_process(accelerator, state.seconds > deadline) \
            if math.isfinite(deadline) else False
        if state.step % run_plan.eval_every == 0 or state.step == run_plan.steps \
                or out_of_time:
            _validate(loop, state, point)
        if out_of_time and not state.finished:
            state.finished = "time budget reached"
        if on_log is not None:
            on_log(state, point)
        if state.step % checkpoint_every == 0 and not state.finished:
            _checkpoint(accelerator, state, loop.run_dir, loop.model)


def train(model: Any, train_set: Sequence[PackedSequence], validation: Sequence[PackedSequence],
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
    optimizer = _optimizer(params, config, run_plan.learning_rate)
    scheduler = _schedule(optimizer, config, run_plan.steps)
    # The scheduler stays unprepared: it steps once per optimiser step, whatever the processes;
    # it is not checkpointed either (accelerate would pickle it): the step says where it is.
    model, optimizer = accelerator.prepare(model, optimizer)
    loop = _Loop(model, optimizer, scheduler, params, accelerator, config, run_plan, run_dir,
                 pad_id, train_set, validation)
    state = state or State()
    if resume:
        state = _load_checkpoint(loop)
    if not resume and math.isfinite(state.best_loss):
        # The loss before training is the one to beat: until a validation does, the untrained
        # weights are the best ones (a run that only gets worse installs nothing new).
        _keep_best(accelerator, model, run_dir, config.method)
    model.train()
    try:
        _run_steps(loop, state, checkpoint_every, on_log)
    except KeyboardInterrupt:
        _checkpoint(accelerator, state, run_dir, model)
        raise Interrupted(state.step) from None
    if not state.finished:
        state.finished = f"planned steps done ({run_plan.steps})"
    if not (run_dir / BEST).exists():
        _keep_best(accelerator, model, run_dir, config.method)
    _checkpoint(accelerator, state, run_dir, model)
    return state


def _load_checkpoint(loop: _Loop) -> State:
    """Continue from ``run_dir/checkpoint`` (recovered first if a killed run left it between
    two renames): the weights and the optimiser's state, the schedule at the saved step."""
    accelerator, run_dir = loop.accelerator, loop.run_dir
    if accelerator.is_main_process:
        has_checkpoint(run_dir)
    accelerator.wait_for_everyone()
    folder = run_dir / CHECKPOINT
    try:
        accelerator.load_state(str(folder), load_kwargs={"weights_only": True})
        state = State.load(folder / STATE_FILE)
    except Exception as exc:  # whatever the readers met: not the checkpoint Kodama wrote
        raise ValueError(f"the checkpoint {folder} cannot be read back ({exc}): start the "
                         "run again without --resume") from exc
    _schedule_at(loop.scheduler, state.step)
    return state


def _schedule_at(scheduler: torch.optim.lr_scheduler.LambdaLR, step: int) -> None:
    """Put the (unsaved) schedule where it was after ``step`` optimiser steps; the optimiser's
    own learning rate comes back with its state."""
    saved = scheduler.state_dict()
    factor = scheduler.lr_lambdas[0](step)
    saved.update(last_epoch=step, _step_count=step + 1, _is_initial=step == 0,
                 _last_lr=[lr * factor for lr in saved["base_lrs"]])
    scheduler.load_state_dict(saved)


def _replace_dir(target: Path, write: Callable[[Path], None], what: str, needed: int) -> None:
    """Write a folder next to ``target`` and swap it in, so ``target`` is always complete."""
    fresh = target.with_name(target.name + ".new")
    remove_tree(fresh)
    with reporting_full_disk(what, target.parent, needed, _RESUME_HINT, partial=fresh):
        write(fresh)
    swap_in(fresh, target)
