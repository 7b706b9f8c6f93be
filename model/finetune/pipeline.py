"""The fine-tune pipeline: learn a repository, measure, install. Each stage is a function that
``kodama fine-tune`` calls in turn, printing what it returns:

1. :func:`open_run` — the accelerator, the adapter to continue from, the run folder (in
   Kodama's cache; it keeps what ``--resume`` needs), the one walk of the repository, the model,
   and the batch size, sequence length and checkpointing that fit the memory budget;
2. :func:`prepare_data` — the dataset built (:mod:`.dataset`) or, resuming, read back;
3. :func:`plan_training` — the model made trainable, one measured step sizing the run to
   ``fine_tune.max_minutes`` (a dry run stops after it);
4. :func:`measure_base` — the base model on completion holes of the test files (``kodama
   eval``'s holes, repository context from the other files; cached per run) and the losses
   before training;
5. :func:`train_model` — training (:func:`kodama.model.finetune.train.train`), resumable;
6. :func:`measure_tuned` — the tuned model on the same holes (and, when continuing, the previous
   run's), and its test loss;
7. :func:`decide_and_install` — the typed report written (:mod:`.report`), the install decision,
   the atomic install (:class:`~kodama.model.finetune.store.AdapterStore`), which a running
   ``kodama serve`` picks up.

What the stages share — the :class:`~kodama.model.finetune.run.Run` and its plumbing — is in
:mod:`.run`.

Under ``accelerate launch`` every process runs the stages and trains its share; the main
process alone measures, writes and installs.
"""

from __future__ import annotations

import gc
import resource
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kodama.model.evaluation import HoleSet, RunResult
from kodama.model.finetune import data as fdata
from kodama.model.finetune.adapter import make_trainable, trainable_parameters
from kodama.model.finetune.batches import mean_loss, plain_loss
from kodama.model.finetune.data import PackedSequence
from kodama.model.finetune.dataset import (
    PreparedDataset,
    build_dataset,
    load_dataset,
    save_dataset,
)
from kodama.model.finetune.durable_files import (
    fault_point,
    replace_json,
    reporting_full_disk,
    tree_size,
)
from kodama.model.finetune.holes import (
    BASE_FILE,
    HOLES_FILE,
    held_out_holes,
    hole_key,
    load_holes,
    previous_holes,
    run_from_json,
    run_to_json,
    save_holes,
)
from kodama.model.finetune.planning import Plan, measure_step, plan
from kodama.model.finetune.report import (
    REPORT_FILES,
    Continued,
    FineTuneReport,
    Forgetting,
    Results,
    TrainingSummary,
    decide,
    write_report,
)
from kodama.model.finetune.run import (
    DONE_FILE,
    Hooks,
    Request,
    Run,
    Settings,
    check_run_folder,
    complete_holes,
    load,
    make_accelerator,
    plan_memory,
    read_object,
    reading_back,
    run_folder,
    shared,
)
from kodama.model.finetune.store import AdapterStore
from kodama.model.finetune.train import (
    BEST,
    CHECKPOINT,
    STATE_FILE,
    Log,
    State,
    has_checkpoint,
    train,
)

SECONDS_PER_HOLE = 5.0
"""Completion time per evaluation hole on a 2-core CPU (the 0.5B model, repository context;
408 s for 80 holes of flask), where a training step of 4 × 512 tokens takes
:data:`REFERENCE_STEP_SECONDS`; estimates scale with the step measured on the machine at hand."""
REFERENCE_STEP_SECONDS = 14.0
PLAN_FILE = "plan.json"
BASE_LOSS_FILE = "base_loss.json"


@dataclass
class Training:
    """The model being trained and the plan it follows."""

    model: Any
    plan: Plan
    trainable: int
    """Parameters trained."""
    total: int
    """Parameters of the model."""
    evaluations: int
    """Passes over the holes the run will make (2, or 3 with the previous run's holes)."""
    evaluation_seconds: float
    """Estimated time of those passes."""


@dataclass
class BaseMeasure:
    """The starting point: the base model on the holes, and the losses before training."""

    holes: HoleSet | None
    """The test holes (main process only)."""
    run: RunResult | None
    """The base model's answers (main process only)."""
    validation_loss: float | None
    test_loss: float | None
    start: State
    """The training state to start from (the loss to beat, the history's first point)."""
    resumes: bool = False
    """Whether training continues from the run folder's checkpoint (a resumed run that was
    killed before its first checkpoint trains from the start)."""


@dataclass(frozen=True)
class TunedMeasure:
    """The trained weights on the same holes."""

    run: RunResult
    test_loss: float
    continued: Continued | None
    forgetting: Forgetting | None


# ------------------------------------------------------------------------ stages 1-3
def open_run(request: Request, settings: Settings, hooks: Hooks | None = None,
             store: AdapterStore | None = None) -> Run:
    """Stage 1: the accelerator, the installed adapter to continue from (unless ``fresh``, or
    it was trained for another model or method), the run folder, the repository's files and
    the model."""
    hooks = hooks or Hooks()
    started = time.perf_counter()
    root = request.root.resolve()
    if not root.is_dir():
        raise ValueError(f"{request.root} is not a folder: kodama fine-tune needs a repository "
                         "root")
    ft = settings.fine_tune
    accelerator = make_accelerator(ft)
    store = store or AdapterStore()
    installed = None if request.fresh else store.current(root)
    if installed is not None and (installed.meta.get("model") != settings.model.name
                                  or installed.meta.get("method") != ft.method):
        if accelerator.is_main_process:
            hooks.say(f"the installed adapter {installed.version} was trained for another "
                      "model or method: starting from the base model")
        installed = None
    # The main process chooses the run folder; every process checkpoints into it.
    main = accelerator.is_main_process
    folder = shared(accelerator, run_folder(root, request.resume)
                    if main and not request.dry_run else None)
    corpus = fdata.collect(root)  # the one walk of the repository: data, holes, context
    loaded = load(settings.model, hooks.load_progress)
    # Before any data is prepared: the sequence length may change, or nothing fits at all.
    settings, memory = plan_memory(settings, loaded.model, corpus, folder, request.resume,
                                   accelerator)
    pad_id = loaded.tokenizer.pad_token_id
    return Run(request, settings, hooks, root, accelerator, store, installed, folder, corpus,
               loaded, pad_id if pad_id is not None else 0, started, memory)


def prepare_data(run: Run) -> PreparedDataset | None:
    """Stage 2: the dataset, built and saved in the run folder, or read back from it when
    resuming. None when training would continue from the installed adapter and no training
    file changed since: nothing new to learn (the run folder is removed)."""
    if run.request.resume and run.folder is not None:
        if run.main:
            check_run_folder(run.folder)
        with reading_back(run.folder, "the prepared dataset"):
            dataset = load_dataset(run.folder)
        # The adapter it continued from (current then; maybe not now, if it installed its own
        # before it was stopped).
        run.installed = next((v for v in run.store.versions(run.root)
                              if v.version == dataset.stats.continued_from), None)
        return dataset
    assert run.loaded is not None
    dataset = build_dataset(run.corpus, run.loaded.tokenizer, run.settings.fine_tune,
                            run.installed)
    if run.installed is not None and not dataset.changed and not run.request.dry_run:
        if run.folder is not None and run.main:
            shutil.rmtree(run.folder, ignore_errors=True)
        return None
    if run.folder is not None and run.main:
        fault_point("data")
        save_dataset(dataset, run.folder)
    return dataset


def _planned(run: Run, dataset: PreparedDataset, model: Any) -> Plan:
    """The plan saved in the run folder when resuming; else measured and planned once, by the
    main process: every process runs the same steps."""
    ft, accelerator = run.settings.fine_tune, run.accelerator
    plan_file = run.folder / PLAN_FILE if run.folder is not None else None
    if plan_file is not None and run.request.resume and plan_file.is_file():
        with reading_back(plan_file.parent, str(plan_file)):
            return Plan(**read_object(plan_file))
    planned: dict[str, Any] = {}
    if run.main:
        step_seconds = measure_step(model, dataset.train, ft, run.pad_id, accelerator.device)
        train_tokens = sum(len(s.ids) for s in dataset.train)
        planned = asdict(plan(ft, len(dataset.train), train_tokens, step_seconds,
                              accelerator.num_processes, len(dataset.validation),
                              continued=run.installed is not None))
        if plan_file is not None:
            replace_json(plan_file, planned)
    return Plan(**shared(accelerator, planned))


def plan_training(run: Run, dataset: PreparedDataset) -> Training:
    """Stage 3: the model made trainable (from the installed adapter when continuing), the
    plan, and an estimate of the evaluations' time."""
    assert run.loaded is not None
    ft = run.settings.fine_tune
    model = make_trainable(run.loaded.model, ft,
                           run.installed.path if run.installed is not None else None)
    model.to(run.accelerator.device)
    trainable, total = trainable_parameters(model)
    run_plan = _planned(run, dataset, model)
    speed = run_plan.step_seconds / ft.gradient_accumulation / (REFERENCE_STEP_SECONDS / 4)
    # Before, after and, when continuing, the previous run's test holes (unless the same).
    evaluations = 3 if run.installed is not None \
        and (run.installed.path / HOLES_FILE).is_file() else 2
    seconds = evaluations * ft.holes * SECONDS_PER_HOLE * speed + 60
    return Training(model, run_plan, trainable, total, evaluations, seconds)


# ------------------------------------------------------------------------ stages 4-5
def _base_answers(run: Run, dataset: PreparedDataset) -> tuple[HoleSet, RunResult]:
    """The test holes and the base model's answers (measured once per run folder)."""
    assert run.folder is not None
    ft = run.settings.fine_tune
    hole_file, base_file = run.folder / HOLES_FILE, run.folder / BASE_FILE
    if hole_file.is_file() and base_file.is_file():  # the base answers, written last
        with reading_back(run.folder, "the base model's answers"):
            return load_holes(hole_file), run_from_json(read_object(base_file))
    hole_set = held_out_holes(run.corpus, dataset.test_files(), ft.holes, ft.seed)
    run.say(f"before: the base model completes {len(hole_set.holes)} holes in "
            f"{len(hole_set.held_out)} test files")
    base_run, = complete_holes(run, load(run.settings.model, run.hooks.load_progress),
                               ("base", hole_set))
    fault_point("base")
    save_holes(hole_set, hole_file)
    replace_json(base_file, run_to_json(base_run))
    return hole_set, base_run


def _base_test_loss(run: Run, model: Any, sequences: list[PackedSequence]) -> float | None:
    """Test loss of the base model: the untrained model itself, or — when training continues
    from an installed LoRA adapter — the model with the adapter switched off (None for the
    other methods, whose starting weights are not the base model's)."""
    if run.installed is None:
        return mean_loss(model, sequences, run.pad_id, run.accelerator)
    if run.settings.fine_tune.method != "lora":
        return None
    with model.disable_adapter():
        return mean_loss(model, sequences, run.pad_id, run.accelerator)


def _base_losses(run: Run, dataset: PreparedDataset,
                 training: Training) -> dict[str, float | None]:
    """The validation and test losses before training: kept in the run folder, measured
    (by every process) when they are not there yet."""
    assert run.folder is not None
    file = run.folder / BASE_LOSS_FILE
    if shared(run.accelerator, not file.is_file() if run.main else None):
        initial = mean_loss(training.model, dataset.validation, run.pad_id, run.accelerator)
        test_loss = _base_test_loss(run, training.model, dataset.test)
        if run.main:
            replace_json(file, {"validation": initial, "test": test_loss})
    run.accelerator.wait_for_everyone()
    return shared(run.accelerator, _read_losses(file) if run.main else {})


def _read_losses(file: Path) -> dict[str, float | None]:
    """The losses :func:`_base_losses` kept."""
    data = read_object(file)
    with reading_back(file.parent, str(file)):
        test = data["test"]
        return {"validation": float(data["validation"]),
                "test": None if test is None else float(test)}


def _saved_step(folder: Path) -> int:
    """The step of the run folder's checkpoint."""
    file = folder / CHECKPOINT / STATE_FILE
    state = read_object(file)
    with reading_back(folder, str(file)):
        return State(**state).step


def measure_base(run: Run, dataset: PreparedDataset, training: Training) -> BaseMeasure:
    """Stage 4: the base model on the test holes (main process) and the validation and test
    losses before training (kept in the run folder). A resumed run continues from its
    checkpoint when it has one (one left between two renames by a killed run is recovered);
    killed before its first, it trains from the start."""
    assert run.folder is not None
    hole_set, base_run = _base_answers(run, dataset) if run.main else (None, None)
    run.accelerator.wait_for_everyone()
    losses = _base_losses(run, dataset, training)
    resumes = run.request.resume and bool(shared(
        run.accelerator, has_checkpoint(run.folder) if run.main else None))
    if run.request.resume:
        run.say(f"training continues from the checkpoint of step {_saved_step(run.folder)}"
                if resumes else "no checkpoint was saved before the run stopped: training "
                                "starts again")
    start, initial = State(), losses["validation"]
    if not resumes and initial is not None:
        start.history.append({"step": 0, "validation_loss": initial})
        start.best_loss = initial
    return BaseMeasure(hole_set, base_run, initial, losses["test"], start, resumes)


def train_model(run: Run, dataset: PreparedDataset, training: Training, base: BaseMeasure,
                on_step: Log | None = None) -> State:
    """Stage 5: training, from the checkpoint when resuming; the best weights end up in the
    run folder's ``best``. :class:`~kodama.model.finetune.train.Interrupted` on Ctrl-C."""
    assert run.folder is not None
    return train(training.model, dataset.train, dataset.validation, run.settings.fine_tune,
                 training.plan, run.folder, run.accelerator, pad_id=run.pad_id,
                 resume=base.resumes, on_log=on_step, state=base.start)


# ------------------------------------------------------------------------ stages 6-7
def _release_training(run: Run, training: Training) -> None:
    """Free the trained model and its optimiser (the accelerator holds both)."""
    from kodama.model.engine import release_memory

    run.accelerator.free_memory()
    training.model = None
    run.loaded = None
    gc.collect()
    release_memory()


def _judge_continuation(run: Run, base: BaseMeasure, tuned_run: RunResult,
                        old_runs: list[RunResult], old_holes: HoleSet | None, *, same: bool,
                        improved: bool) -> tuple[Continued | None, Forgetting | None]:
    """What a run that continued from the installed adapter is judged on besides the base:
    whether it improved, and how it does on the previous run's test holes (``old_holes``:
    answered by the tuned run when they are the ``same`` holes, else by ``old_runs``)."""
    installed = run.installed
    if installed is None:
        return None, None
    assert base.run is not None
    if old_holes is None or not (same or old_runs):
        return Continued(installed.version, improved), None
    answered = tuned_run if same else old_runs[0]
    recorded = installed.meta.get("hole_results")
    continued = Continued(
        installed.version, improved, holes=len(old_holes.holes),
        exact=sum(r.exact for r in answered.results),
        previous_exact=None if recorded is None else sum(
            bool(recorded.get(hole_key(h), False)) for h in old_holes.holes))
    base_exact = sum(r.exact for r in base.run.results) if same else None
    return continued, Forgetting(**asdict(continued), base_exact=base_exact)


def measure_tuned(run: Run, dataset: PreparedDataset, training: Training, base: BaseMeasure,
                  state: State) -> TunedMeasure:
    """Stage 6 (main process): the test loss in the training format, then the holes as
    served; when continuing, also the previous run's holes whose files did not change."""
    assert run.folder is not None and base.holes is not None
    _release_training(run, training)
    improved = state.best_step > 0
    old_holes = previous_holes(run.installed.path, run.corpus) \
        if run.installed is not None else None
    # The same test files give the same holes, which the "after" run answers; weights that
    # never beat the installed adapter are that adapter, with nothing to measure again.
    same = old_holes is not None and old_holes.hash == base.holes.hash
    again = old_holes if old_holes is not None and not same and improved else None
    tuned = load(run.settings.model, run.hooks.load_progress, adapter=run.folder / BEST)
    tuned_loss = plain_loss(tuned.model, dataset.test, run.pad_id)
    tuned_run, *old_runs = complete_holes(run, tuned, ("tuned", base.holes),
                                          *([("old", again)] if again else []))
    fault_point("tuned")
    del tuned
    gc.collect()
    continued, forgetting = _judge_continuation(run, base, tuned_run, old_runs, old_holes,
                                                same=same, improved=improved)
    return TunedMeasure(tuned_run, tuned_loss, continued, forgetting)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _training_summary(run: Run, training: Training, base: BaseMeasure,
                      state: State) -> TrainingSummary:
    ft, run_plan = run.settings.fine_tune, training.plan
    return TrainingSummary(
        method=ft.method, steps=state.step, epochs=run_plan.epochs,
        limited_by=run_plan.limited_by, finished=state.finished, tokens=state.tokens,
        seconds=state.seconds, tokens_per_second=state.tokens / max(state.seconds, 1e-9),
        peak_memory_mb=_peak_mb(), best_step=state.best_step,
        best_validation_loss=state.best_loss, initial_validation_loss=base.validation_loss,
        trainable_parameters=training.trainable, total_parameters=training.total,
        learning_rate=run_plan.learning_rate, sequence_tokens=ft.sequence_tokens,
        effective_batch=ft.batch_size * ft.gradient_accumulation
        * run.accelerator.num_processes,
        history=state.history, config=asdict(ft),
        memory_plan=run.memory.to_json() if run.memory is not None else None)


def _install(run: Run, dataset: PreparedDataset, report: FineTuneReport, hole_set: HoleSet,
             tuned_run: RunResult) -> str:
    """Install the best weights with the report and the holes; the new version. A full disk
    is reported (:class:`~kodama.model.finetune.durable_files.DiskFull`) with the installed
    adapter and the run folder intact, ready for ``--resume``."""
    assert run.folder is not None
    package = run.folder / "install"
    shutil.rmtree(package, ignore_errors=True)
    remedy = f"run `kodama fine-tune {run.root} --resume` to install it"
    with reporting_full_disk("the adapter's install copy", run.folder,
                             tree_size(run.folder / BEST), remedy, partial=package):
        shutil.copytree(run.folder / BEST, package)
        for name in (*REPORT_FILES, HOLES_FILE):
            shutil.copy2(run.folder / name, package / name)
    try:
        done = run.store.install(run.root, package, {
            "model": run.settings.model.name, "method": run.settings.fine_tune.method,
            "run": run.folder.name, "source_files": dataset.hashes, "splits": dataset.splits,
            "results": report.results.to_json(),
            "hole_results": {hole_key(h): r.exact
                             for h, r in zip(hole_set.holes, tuned_run.results, strict=True)},
        }, remedy=remedy)
    finally:
        shutil.rmtree(package, ignore_errors=True)
    return done.version


def _installed_by_this_run(run: Run) -> str | None:
    """The version this run installed before it was killed (resuming), if it is current."""
    assert run.folder is not None
    current = run.store.current(run.root)
    if current is not None and current.meta.get("run") == run.folder.name:
        return current.version
    return None


def decide_and_install(run: Run, dataset: PreparedDataset, training: Training,
                       base: BaseMeasure, tuned: TunedMeasure, state: State) -> FineTuneReport:
    """Stage 7 (main process): the report written into the run folder, the install decision
    (:func:`~kodama.model.finetune.report.decide`) and, when it says so, the install (once:
    a resumed run that had installed before it was killed keeps that version); the run is
    then marked done."""
    assert run.folder is not None and base.holes is not None and base.run is not None
    ft = run.settings.fine_tune
    install, decision = decide(base.run, tuned.run, ft.install, tuned.continued)
    report = FineTuneReport(
        repository=str(run.root), model=run.settings.model.name,
        started=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), decision=decision,
        data=dataset.stats, training=_training_summary(run, training, base, state),
        results=Results.of(base.holes, dataset.test_files(), base.run, tuned.run,
                           base.test_loss, tuned.test_loss),
        forgetting=tuned.forgetting)
    report.wall_seconds = time.perf_counter() - run.started
    write_report(report, run.folder)
    if install:
        report.installed = _installed_by_this_run(run) \
            or _install(run, dataset, report, base.holes, tuned.run)
        write_report(report, run.folder)
        fault_point("installed")
        run.store.prune(run.root)
    (run.folder / DONE_FILE).write_text(decision + "\n", encoding="utf-8")
    return report
