"""One fine-tune run and what every stage of :mod:`.pipeline` shares: what the user asked
(:class:`Request`), how to train and measure (:class:`Settings`), how to speak
(:class:`Hooks`), and :class:`Run` itself (the accelerator, the run folder, the repository's
files, the model); plus the plumbing the stages use: the accelerator, values shared between
processes, the run folder (and reading it back safely when resuming), model loads and passes
over hole sets.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from kodama.model.completion import CompletionSettings
from kodama.model.config import FineTuneConfig, ModelConfig
from kodama.model.evaluation import (
    HoleSet,
    OnHoleResult,
    RunResult,
    evaluate,
    held_out_free,
    repository_provider,
)
from kodama.model.finetune import data as fdata
from kodama.model.finetune.dataset import DATASET_FILE, OutdatedRunFolder, has_dataset
from kodama.model.finetune.durable_files import first_link
from kodama.model.finetune.store import AdapterStore, Installed, repo_key
from kodama.model.loader import LoadedModel
from kodama.model.types import ProgressFn

if TYPE_CHECKING:  # planning imports torch: only once a run plans its memory
    from kodama.model.finetune.planning import MemoryPlan

T = TypeVar("T")

DONE_FILE = "done"
"""Written when a run is over (its decision): such a run is never resumed."""
MEMORY_FILE = "memory.json"
"""The run's memory plan: a resumed run trains with the batches it began with."""


class DamagedRunFolder(ValueError):
    """An interrupted run's folder cannot be read back: a file is damaged, is not what Kodama
    wrote, or is a link pointing elsewhere."""

    def __init__(self, folder: Path, problem: str) -> None:
        """``problem``: what is wrong, naming the file."""
        super().__init__(f"the interrupted fine-tune in {folder} cannot be resumed: {problem}. "
                         "Start it again without --resume")


def _silent(message: str) -> None:
    """Says nothing."""


def _no_hole_progress(label: str) -> OnHoleResult | None:
    """Shows nothing."""
    return None


@dataclass(frozen=True)
class Request:
    """What the user asked for."""

    root: Path
    """The repository's root folder, as given."""
    resume: bool = False
    """Continue the last interrupted run of this repository."""
    fresh: bool = False
    """Start from the base model even when an adapter is installed."""
    dry_run: bool = False
    """Stop after the plan: no run folder, no training."""


@dataclass(frozen=True)
class Settings:
    """How the run trains and measures."""

    model: ModelConfig
    fine_tune: FineTuneConfig
    completion: CompletionSettings
    """How the holes are completed: the budgets serving uses (repository context included)."""


@dataclass(frozen=True)
class Hooks:
    """How the stages speak while they work (the command prints; tests stay quiet)."""

    say: Callable[[str], None] = _silent
    """A line for the user (called by the main process only)."""
    load_progress: ProgressFn | None = None
    """Progress of each model load."""
    hole_progress: Callable[[str], OnHoleResult | None] = _no_hole_progress
    """Progress of one labelled pass over a hole set (``base``, ``tuned``, ``old``)."""


@dataclass
class Run:
    """One fine-tune under way: what every stage reads."""

    request: Request
    settings: Settings
    hooks: Hooks
    root: Path
    """The repository's resolved root."""
    accelerator: Any
    store: AdapterStore
    installed: Installed | None
    """The installed adapter training continues from (None: the base model)."""
    folder: Path | None
    """The run folder (None on a dry run)."""
    corpus: fdata.Corpus
    loaded: LoadedModel | None
    """The model as loaded (released once training is over)."""
    pad_id: int
    """The tokenizer's padding id (0 when it has none)."""
    started: float = field(default_factory=time.perf_counter)
    """When the run began (``time.perf_counter``), for the report's wall time."""
    memory: MemoryPlan | None = None
    """How training fits the memory budget (None: a resumed run planned by an older Kodama)."""

    @property
    def main(self) -> bool:
        """Whether this is the process that measures, writes and installs."""
        return bool(self.accelerator.is_main_process)

    def say(self, message: str) -> None:
        """Tell the user (the main process speaks for all)."""
        if self.main:
            self.hooks.say(message)


def make_accelerator(config: FineTuneConfig) -> Any:
    """An accelerate ``Accelerator`` for this process (CPU or GPUs, under ``accelerate launch``
    or not)."""
    import torch
    from accelerate import Accelerator
    from accelerate.state import AcceleratorState

    from kodama.model.loader import bf16_is_fast

    gpu = torch.cuda.is_available()
    mixed = "bf16" if config.method != "lora" and (gpu or bf16_is_fast()) else "no"
    # One run per process from the CLI; a second run in the same process (tests, notebooks)
    # may ask for another precision, which accelerate's process-wide state would refuse.
    AcceleratorState._reset_state()
    # cpu=True on a machine without GPUs: under `accelerate launch` the processes then join a
    # gloo group (accelerate only forms a CPU group when asked for the CPU).
    return Accelerator(gradient_accumulation_steps=config.gradient_accumulation,
                       mixed_precision=mixed, cpu=not gpu)


def plan_memory(settings: Settings, model: Any, corpus: fdata.Corpus, folder: Path | None,
                resume: bool, accelerator: Any) -> tuple[Settings, MemoryPlan | None]:
    """The settings with the batch size, sequence length and gradient checkpointing that fit
    the memory budget (:func:`~kodama.model.finetune.planning.fit_memory`), decided by the main
    process and kept in the run folder; a resumed run reads them back (an older Kodama's run
    folder holds none: the settings stay). :class:`~.planning.MemoryTooSmall` in every
    process when nothing fits."""
    from kodama.model.finetune import planning

    decided = shared(accelerator, _decide_memory(settings.fine_tune, model, corpus, folder,
                                                 resume, accelerator)
                     if accelerator.is_main_process else {})
    if "error" in decided:
        raise planning.MemoryTooSmall(decided["error"])
    if not decided:
        return settings, None
    memory = planning.MemoryPlan(**decided)
    return replace(settings, fine_tune=planning.fitted(settings.fine_tune, memory)), memory


def _decide_memory(ft: FineTuneConfig, model: Any, corpus: fdata.Corpus, folder: Path | None,
                   resume: bool, accelerator: Any) -> dict[str, Any]:
    """The main process's memory plan as data: read back when resuming (empty when the run
    folder holds none), else fitted and saved; ``{"error": message}`` when nothing fits (the
    new run folder is then removed)."""
    from kodama.model.finetune import planning
    from kodama.model.finetune.durable_files import replace_json

    file = folder / MEMORY_FILE if folder is not None else None
    if resume and file is not None:
        if not file.is_file():
            return {}
        decided = read_object(file)
        with reading_back(file.parent, str(file)):
            planning.MemoryPlan(**decided)
        return decided
    budget = planning.memory_budget(ft, accelerator.device, accelerator.num_processes)
    text = sum(len(f.text) for f in corpus.files) // planning.CHARS_PER_TOKEN
    try:
        decided = asdict(planning.fit_memory(planning.model_shape(model), ft, budget, text))
    except planning.MemoryTooSmall as exc:
        if folder is not None:  # the new run folder: it holds nothing yet
            shutil.rmtree(folder, ignore_errors=True)
        return {"error": str(exc)}
    if file is not None:
        replace_json(file, decided)
    return decided


def shared(accelerator: Any, value: T) -> T:
    """The main process's ``value``, in every process (itself when there is one process)."""
    from accelerate.utils import broadcast_object_list

    box = [value]
    broadcast_object_list(box, from_process=0)
    return box[0]


def run_folder(root: Path, resume: bool) -> Path:
    """The run folder: on ``resume`` the last unfinished one (:class:`OutdatedRunFolder` when an
    older Kodama prepared it), else a new one (unfinished ones are abandoned and removed)."""
    from kodama.model.weights import cache_root

    base = cache_root() / "finetune" / repo_key(root)
    if resume:
        runs = sorted(p for p in base.glob("run-*")
                      if has_dataset(p) and not (p / DONE_FILE).exists())
        if not runs:
            raise ValueError(f"no interrupted fine-tune of {root} to resume; start one without "
                             "--resume")
        if not (runs[-1] / DATASET_FILE).is_file():
            raise OutdatedRunFolder(runs[-1])
        return runs[-1]
    for stale in base.glob("run-*"):
        if not (stale / DONE_FILE).exists():
            shutil.rmtree(stale, ignore_errors=True)  # an abandoned run: a new one replaces it
    folder = base / time.strftime("run-%Y%m%d-%H%M%S", time.gmtime())
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def load(config: ModelConfig, progress: ProgressFn | None,
         adapter: Path | None = None) -> LoadedModel:
    """The configured model (with ``adapter`` applied)."""
    from kodama.model.loader import load_model

    return load_model(config.name, dtype=config.dtype, progress=progress,
                      threads=config.threads, adapter=adapter)


def complete_holes(run: Run, loaded: LoadedModel,
                   *sets: tuple[str, HoleSet]) -> list[RunResult]:
    """The loaded model, quantised once like serving, on each ``(label, hole set)`` with
    repository context built from every trainable file except that set's test files."""
    from kodama.model.engine import Engine, release_memory

    quantization = run.settings.model.quantization
    engine = Engine(loaded, quantization=quantization)
    results = []
    for label, hole_set in sets:
        with held_out_free(run.corpus.root, run.corpus.files, hole_set,
                           repository_provider) as provider:
            results.append(evaluate(hole_set, engine, run.settings.completion, provider,
                                    config={"model": label, "context": "repo",
                                            "quantization": quantization},
                                    progress=run.hooks.hole_progress(label)))
    del engine, loaded
    gc.collect()
    release_memory()
    return results


# ------------------------------------------------------------------------ reading it back
def check_run_folder(folder: Path) -> None:
    """Refuse a run folder holding a symbolic link (:class:`DamagedRunFolder`): everything in
    it is Kodama's own, and nothing is read from elsewhere through it."""
    link = first_link(folder)
    if link is not None:
        raise DamagedRunFolder(folder, f"{link} is a link to {os.readlink(link)}, "
                                       "not a file Kodama wrote")


@contextmanager
def reading_back(folder: Path, what: str) -> Iterator[None]:
    """Read ``what`` from the run folder inside this block: whatever is wrong with it (missing,
    truncated, not the data Kodama wrote) becomes a :class:`DamagedRunFolder`."""
    try:
        yield
    except (DamagedRunFolder, OutdatedRunFolder):
        raise
    except Exception as exc:  # whatever the reader met: the folder is not as Kodama left it
        raise DamagedRunFolder(folder, f"{what} is damaged ({type(exc).__name__}: {exc})") \
            from exc


def read_object(file: Path) -> dict[str, Any]:
    """The JSON object in ``file`` of a run folder (:class:`DamagedRunFolder` otherwise)."""
    with reading_back(file.parent, str(file)):
        data = json.loads(file.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise DamagedRunFolder(file.parent, f"{file} does not hold a JSON object")
    return data
