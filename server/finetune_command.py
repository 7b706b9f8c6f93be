"""``kodama fine-tune PATH`` and ``kodama adapters``: learn a repository, measure, install.

The run, in order (each stage prints what it found; a run folder in Kodama's cache keeps
everything needed to resume):

1. data: :func:`kodama.model.finetune.data.collect`, the split, the examples, packed;
2. plan: one measured training step sizes the run to ``fine_tune.max_minutes``
   (``--dry-run`` stops here with the statistics and the estimate);
3. the base model on completion holes of the test files (``kodama eval``'s holes, repository
   context from the other files) — cached, so a resumed run does not redo it;
4. training (:func:`kodama.model.finetune.train.train`), resumable;
5. the tuned model on the same holes, and the test loss of both;
6. the report (Markdown, JSON, PNG) and the install decision
   (:func:`kodama.model.finetune.report.decide`); the install is atomic
   (:class:`kodama.model.finetune.store.AdapterStore`) and a running ``kodama serve`` picks it up.

Run under ``accelerate launch`` the same code trains with several processes; the main process
alone evaluates, writes and installs.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import gzip
import hashlib
import json
import math
import re
import resource
import shutil
import sys
import time
import typing
from collections import Counter
from pathlib import Path
from typing import Any, TypeVar

from kodama.model.evaluation import (
    Hole,
    HoleResult,
    HoleSet,
    RunResult,
    evaluate,
    paired_exact,
    pick_holes,
    summarize,
)
from kodama.model.finetune import data as fdata
from kodama.model.finetune.report import Continued, decide, markdown, picture
from kodama.model.finetune.store import AdapterStore, Installed, repo_key
from kodama.server.config import FineTuneConfig, KodamaConfig, describe

T = TypeVar("T")

EXIT_INTERRUPTED = 130
VALIDATION_SEQUENCES = 16
"""Sequences of the validation (and test) loss: about 6,000 tokens, 40 s on a 2-core CPU."""
SECONDS_PER_HOLE = 5.0
"""Completion time per evaluation hole on a 2-core CPU (the 0.5B model, repository context;
408 s for 80 holes of flask), where a training step of 4 × 512 tokens takes
:data:`REFERENCE_STEP_SECONDS`; estimates scale with the step measured on the machine at hand."""
REFERENCE_STEP_SECONDS = 14.0


# ------------------------------------------------------------------------ parsers
def _flag(key: str) -> str:
    return "--" + key.replace("_", "-")


def add_parsers(subparsers: Any, model_flags: Any) -> None:
    """``fine-tune`` (every ``fine_tune.*`` setting is a flag) and ``adapters``."""
    parser = subparsers.add_parser(
        "fine-tune", help="train the model on a repository and install it when it is better",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Fine-tune the completion model on the repository at PATH, on this machine.\n\n"
            "Files named in .gitignore or .kodamaignore, vendored, generated, binary and huge\n"
            "files, lock files and anything that looks like a secret are never trained on.\n"
            "Whole files are held out for testing; the base and the tuned model complete the\n"
            "same holes in them, and the adapter is installed only when it is better.\n"
            "`kodama serve` then uses it for that repository (no restart needed)."),
        epilog=("examples:\n"
                "  kodama fine-tune . --dry-run        data statistics and time estimate\n"
                "  kodama fine-tune .                  train, compare, install if better\n"
                "  kodama fine-tune . --resume         continue an interrupted run\n"
                "  kodama adapters rollback .          go back to the previous adapter\n"
                "  accelerate launch --multi_gpu --num_processes N -m kodama.server fine-tune .\n"
                "                                      N processes/GPUs (README: For teams)"),
    )
    parser.add_argument("path", type=Path, metavar="PATH", help="the repository's root folder")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the data statistics and the estimated time, do not train")
    parser.add_argument("--resume", action="store_true",
                        help="continue the last interrupted run of this repository")
    parser.add_argument("--fresh", action="store_true",
                        help="start from the base model even when an adapter is installed "
                             "(default: continue from it, on what changed)")
    parser.add_argument("--no-install", action="store_true",
                        help="measure and report, but do not install (same as --install never)")
    parser.add_argument("--report-dir", type=Path, metavar="DIR",
                        help="also copy the report (Markdown, JSON, PNG) here")
    model_flags(parser, remote=False)  # training is local (or under accelerate launch)
    defaults = FineTuneConfig()
    hints = typing.get_type_hints(FineTuneConfig)
    for key, default, doc in describe(defaults):
        kwargs: dict[str, Any] = {"dest": f"fine_tune.{key}", "metavar": key.upper(),
                                  "help": f"{doc} (default {default})"}
        choices = [str(c) for c in typing.get_args(hints[key])] \
            if typing.get_origin(hints[key]) is typing.Literal else []
        if choices:
            kwargs["choices"] = choices
            kwargs.pop("metavar")
        parser.add_argument(_flag(key), **kwargs)

    adapters = subparsers.add_parser(
        "adapters", help="list, roll back or remove the adapters installed for a repository")
    adapters.add_argument("action", choices=["list", "rollback", "remove", "export"])
    adapters.add_argument("path", type=Path, metavar="PATH", help="the repository's root folder")
    adapters.add_argument("--to", metavar="VERSION|DIR",
                          help="rollback: this version; export: the folder to write")
    adapters.add_argument("--merged", action="store_true",
                          help="export: the base model with the adapter merged in (a full "
                               "model folder for vLLM, TGI or llama.cpp's converter) instead "
                               "of the LoRA adapter (for vLLM's --lora-modules)")
    adapters.add_argument("--name", metavar="NAME",
                          help="export: the name to serve it under (default: kodama-REPO)")


def fine_tune_values(args: argparse.Namespace) -> dict[str, Any]:
    """The ``fine_tune.*`` flags given on the command line (for the configuration tree)."""
    values = {key: value for key, value in vars(args).items()
              if key.startswith("fine_tune.") and value is not None}
    if getattr(args, "no_install", False):
        values["fine_tune.install"] = "never"
    return values


# ------------------------------------------------------------------------ adapters
def run_adapters(args: argparse.Namespace) -> int:
    """``kodama adapters list|rollback|remove PATH``."""
    root = Path(args.path).resolve()
    store = AdapterStore()
    current = store.current(root)
    if args.action == "list":
        versions = store.versions(root)
        if not versions:
            print(f"no adapter installed for {root}")
            return 0
        for item in versions:
            mark = "*" if current is not None and item.version == current.version else " "
            tuned = item.meta.get("results", {}).get("tuned", {})
            base = item.meta.get("results", {}).get("base", {})
            print(f"{mark} {item.version}  exact {tuned.get('exact_count', '?')}/"
                  f"{tuned.get('holes', '?')} (base {base.get('exact_count', '?')})  "
                  f"{item.meta.get('model', '')}  {item.path}")
        return 0
    if args.action == "rollback":
        now = store.rollback(root, to=args.to)
        if now is None:
            print(f"nothing to roll back to for {root}", file=sys.stderr)
            return 1
        print(f"current adapter for {root}: {now.version}")
        return 0
    if args.action == "export":
        return _export(args, root, current)
    removed = store.uninstall(root)
    print(f"{'removed' if removed else 'no'} adapter for {root}; serving uses the base model")
    return 0


def _export(args: argparse.Namespace, root: Path, current: Installed | None) -> int:
    """``kodama adapters export PATH --to DIR [--merged] [--name NAME]``."""
    from kodama.model.finetune.export import export_lora, export_merged
    from kodama.model.loader import load_model, resolve
    from kodama.server.cli import _stderr_progress

    if current is None:
        print(f"no adapter installed for {root}: run `kodama fine-tune {root}` first",
              file=sys.stderr)
        return 1
    if not args.to:
        print("kodama adapters export: --to DIR is required", file=sys.stderr)
        return 2
    spec = str(current.meta.get("model", "default"))
    source = resolve(spec)
    base = source.preset.upstream if source.preset is not None else spec
    name = args.name or "kodama-" + (re.sub(r"[^A-Za-z0-9._-]+", "-", root.name) or "repo")
    dest = Path(args.to).resolve()
    if args.merged:
        def load() -> tuple[object, object]:
            loaded = load_model(spec, adapter=current.path, progress=_stderr_progress)
            return loaded.model, loaded.tokenizer

        export_merged(load, dest, name=name, base=base)
    else:
        export_lora(current.path, dest, name=name, base=base)
    print(f"exported adapter {current.version} of {root} to {dest} as {name!r}; "
          f"see {dest / 'SERVING.md'}")
    return 0


# ------------------------------------------------------------------------ the run
def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclasses.dataclass
class Dataset:
    """Everything the run trains and measures on (saved in the run folder for ``--resume``)."""

    splits: dict[str, fdata.Split]
    hashes: dict[str, str]
    train: list[fdata.Sequence_]
    validation: list[fdata.Sequence_]
    test: list[fdata.Sequence_]
    stats: dict[str, Any]
    changed: list[str]
    """Training files new or changed since the installed adapter (continual learning)."""


def build_dataset(corpus: fdata.Corpus, tokenizer: Any, config: FineTuneConfig,
                  previous: Installed | None) -> Dataset:
    """Collect, split, render and pack the repository's examples; with ``previous``, training
    sees what changed since it plus as much again of the rest (replay against forgetting)."""
    from kodama.model.prompt import detect_fim

    root = corpus.root
    if not corpus.files:
        raise ValueError(f"{root}: no source file to train on (languages with a grammar, not "
                         "ignored, not secret, not generated)")
    splits = fdata.split(corpus.files, seed=config.seed, test_fraction=config.test_fraction,
                         validation_fraction=config.validation_fraction)
    hashes = {s.path: _sha(s.text) for s in corpus.files}
    from kodama.model.tokens import PlainText

    encoder = PlainText(tokenizer)
    vocab = tokenizer.get_vocab()
    fim = detect_fim(vocab)
    end_id = fdata.end_token(vocab, tokenizer.eos_token_id)
    shape = fdata.ExampleShape()
    per_split: dict[str, list[fdata.Example]] = {"train": [], "validation": [], "test": []}
    lines: Counter[str] = Counter()
    files: Counter[str] = Counter()
    changed: list[str] = []
    old = previous.meta.get("source_files", {}) if previous is not None else {}
    train_sources = [s for s in corpus.files if splits[s.path] == "train"]
    if previous is not None:
        changed = [s.path for s in train_sources if old.get(s.path) != hashes[s.path]]
        kept = [s for s in train_sources if s.path not in set(changed)]
        budget = sum(len(s.text) for s in train_sources if s.path in set(changed))
        replay: list[fdata.SourceFile] = []
        for source in sorted(kept, key=lambda s: _sha(f"{config.seed}:{s.path}")):
            if sum(len(r.text) for r in replay) >= budget:
                break
            replay.append(source)
        train_sources = [s for s in train_sources if s.path in set(changed)] + replay
    chosen = set(s.path for s in train_sources)
    for source in corpus.files:
        name = splits[source.path]
        if name == "train" and source.path not in chosen:
            continue
        per_split[name] += fdata.file_examples(source, encoder, fim, end_id, shape,
                                               config.seed)
        lines[name] += source.text.count("\n") + 1
        files[name] += 1
    packed = {name: fdata.pack(examples, config.sequence_tokens, config.seed)
              for name, examples in per_split.items()}
    # Validation and test losses are estimates: a few thousand tokens are plenty.
    for name in ("validation", "test"):
        packed[name] = packed[name][:VALIDATION_SEQUENCES]
    if not packed["train"] and (previous is None or changed):
        raise ValueError(f"{root}: the training files gave no examples")
    stats = {
        "files_seen": len(corpus.files) + sum(corpus.skipped.values()),
        "skipped": dict(corpus.skipped),
        "skipped_examples": corpus.examples_of_skips,
        "splits": {name: {"files": files[name], "lines": lines[name],
                          "examples": len(per_split[name]),
                          "tokens": sum(len(e.ids) for e in per_split[name]),
                          "sequences": len(packed[name])}
                   for name in ("train", "validation", "test")},
        "example_kinds": dict(Counter(e.kind for e in per_split["train"])),
        "continued_from": previous.version if previous is not None else None,
        "changed_files": len(changed),
    }
    return Dataset(splits, hashes, packed["train"], packed["validation"], packed["test"], stats,
                   changed)


def print_stats(stats: dict[str, Any], root: Path) -> None:
    """The data statistics, as the user sees them."""
    _say(f"data: {root}")
    for name, split in stats["splits"].items():
        _say(f"  {name:<10} {split['files']:>5} files {split['lines']:>8,} lines "
             f"{split['examples']:>7,} examples {split['tokens']:>10,} tokens "
             f"→ {split['sequences']:,} sequences")
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(stats["example_kinds"].items()))
    _say(f"  training examples by kind: {kinds}")
    if stats["skipped"]:
        _say("  left out: " + ", ".join(f"{reason} {count}"
                                        for reason, count in sorted(stats["skipped"].items())))
    else:
        _say("  left out: nothing (beyond ignored, vendored and non-source files)")
    if stats["continued_from"]:
        _say(f"  continuing from adapter {stats['continued_from']}: "
             f"{stats['changed_files']} training files changed (plus as much replayed)")


def _accelerator(config: FineTuneConfig) -> Any:
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


def _load(config: KodamaConfig, *, dtype: str | None = None, adapter: Path | None = None) -> Any:
    from kodama.model.loader import load_model

    def progress(message: str, fraction: float | None) -> None:
        if sys.stderr.isatty():
            pct = "" if fraction is None else f" {fraction * 100:3.0f}%"
            sys.stderr.write(f"\r\x1b[K{message}{pct}")
            sys.stderr.flush()

    loaded = load_model(config.model.name, dtype=dtype or config.model.dtype,  # type: ignore[arg-type]
                        progress=progress, threads=config.model.threads, adapter=adapter)
    if sys.stderr.isatty():
        sys.stderr.write("\r\x1b[K")
    return loaded


def _shared(accelerator: Any, value: T) -> T:
    """The main process's ``value``, in every process (itself when there is one process)."""
    from accelerate.utils import broadcast_object_list

    box = [value]
    broadcast_object_list(box, from_process=0)
    return box[0]


def _run_dir(root: Path, resume: bool) -> Path:
    from kodama.model.weights import cache_root

    base = cache_root() / "finetune" / repo_key(root)
    if resume:
        runs = sorted(p for p in base.glob("run-*") if (p / "dataset.pt").is_file()
                      and not (p / "done").exists())
        if not runs:
            raise ValueError(f"no interrupted fine-tune of {root} to resume; start one without "
                             "--resume")
        return runs[-1]
    for stale in base.glob("run-*"):
        if not (stale / "done").exists():
            shutil.rmtree(stale, ignore_errors=True)  # an abandoned run: a new one replaces it
    folder = base / time.strftime("run-%Y%m%d-%H%M%S", time.gmtime())
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _eval_holes(corpus: fdata.Corpus, test_files: list[str], config: FineTuneConfig) -> HoleSet:
    files = [s for s in corpus.files if s.path in set(test_files)]
    return pick_holes(corpus.root, holes=config.holes, held_out=max(1, len(files)),
                      seed=config.seed, files=files)


def _complete_holes(config: KodamaConfig, loaded: Any, corpus: fdata.Corpus,
                    *sets: tuple[str, HoleSet]) -> list[RunResult]:
    """The loaded model, quantised once like serving, on each ``(label, hole set)`` with
    repository context built from every trainable file except that set's test files."""
    from kodama.model.engine import Engine, release_memory
    from kodama.server.eval_command import _Progress, held_out_free, repository_provider
    from kodama.server.suggest import settings_from

    engine = Engine(loaded, quantization=config.model.quantization)
    settings = settings_from(config.completion)
    results = []
    for label, hole_set in sets:
        with held_out_free(corpus.root, corpus.files, hole_set, repository_provider) as provider:
            results.append(evaluate(hole_set, engine, settings, provider,
                                    config={"model": label, "context": "repo",
                                            "quantization": config.model.quantization},
                                    progress=_Progress(f"{label:>5}")))
    del engine, loaded
    gc.collect()
    release_memory()
    return results


def _holes_to_json(hole_set: HoleSet) -> dict[str, Any]:
    return {"root": hole_set.root, "seed": hole_set.seed, "held_out": list(hole_set.held_out),
            "files_seen": hole_set.files_seen,
            "holes": [dataclasses.asdict(h) for h in hole_set.holes]}


def _holes_from_json(data: dict[str, Any]) -> HoleSet:
    return HoleSet(root=data["root"], seed=data["seed"], held_out=tuple(data["held_out"]),
                   holes=tuple(Hole(**h) for h in data["holes"]), files_seen=data["files_seen"])


def _summary(run: RunResult, test_loss: float | None = None) -> dict[str, Any]:
    summary = dataclasses.asdict(summarize(run.results))
    summary["test_loss"] = test_loss
    return summary


def _run_json(run: RunResult) -> dict[str, Any]:
    return {"config": run.config, "results": [dataclasses.asdict(r) for r in run.results]}


def _run_from_json(data: dict[str, Any]) -> RunResult:
    return RunResult(config=data["config"],
                     results=tuple(HoleResult(**r) for r in data["results"]))


def run(args: argparse.Namespace, config: KodamaConfig) -> int:
    """``kodama fine-tune``; 0 when it finished (installed or not), 130 when interrupted."""
    import torch

    from kodama.model.engine import release_memory
    from kodama.model.finetune import train as ftrain

    started_wall = time.perf_counter()
    root = Path(args.path).resolve()
    if not root.is_dir():
        raise ValueError(f"{args.path} is not a folder: kodama fine-tune needs a repository root")
    ft = config.fine_tune
    accelerator = _accelerator(ft)
    main = accelerator.is_main_process

    def say(message: str) -> None:  # the main process speaks for all
        if main:
            _say(message)

    store = AdapterStore()
    installed = None if args.fresh else store.current(root)
    if installed is not None and (installed.meta.get("model") != config.model.name
                                  or installed.meta.get("method") != ft.method):
        say(f"the installed adapter {installed.version} was trained for another model or "
             "method: starting from the base model")
        installed = None

    # The main process chooses the run folder; every process checkpoints into it.
    run_dir = _shared(accelerator,
                      _run_dir(root, args.resume) if main and not args.dry_run else None)
    corpus = fdata.collect(root)  # the one walk of the repository: data, holes, context
    loaded = _load(config)
    tokenizer = loaded.tokenizer
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    dataset_file = run_dir / "dataset.pt" if run_dir is not None else None
    if args.resume and dataset_file is not None:
        dataset = torch.load(dataset_file, weights_only=False)  # our own file, in our cache
        installed = store.current(root) if dataset.stats["continued_from"] else None
        say(f"resuming {run_dir}")
    else:
        dataset = build_dataset(corpus, tokenizer, ft, installed)
        if installed is not None and not dataset.changed and not args.dry_run:
            say(f"no training file changed since the installed adapter {installed.version}; "
                 "nothing new to learn (use --fresh to train again from the base model)")
            if run_dir is not None and main:
                shutil.rmtree(run_dir, ignore_errors=True)
            return 0
        if dataset_file is not None and main:
            torch.save(dataset, dataset_file)
    if main:
        print_stats(dataset.stats, root)

    model = ftrain.make_trainable(loaded.model, ft, installed.path if installed else None)
    model.to(accelerator.device)
    trainable, total = ftrain.trainable_parameters(model)
    train_tokens = sum(len(s.ids) for s in dataset.train)
    plan_file = run_dir / "plan.json" if run_dir is not None else None
    if plan_file is not None and args.resume and plan_file.is_file():
        run_plan = ftrain.Plan(**json.loads(plan_file.read_text(encoding="utf-8")))
    else:
        # Measured and planned once, by the main process: every process runs the same steps.
        planned: dict[str, Any] = {}
        if main:
            step_seconds = ftrain.measure_step(model, dataset.train, ft, pad_id,
                                               accelerator.device)
            planned = dataclasses.asdict(ftrain.plan(
                ft, len(dataset.train), train_tokens, step_seconds, accelerator.num_processes,
                len(dataset.validation), continued=installed is not None))
            if plan_file is not None:
                plan_file.write_text(json.dumps(planned), encoding="utf-8")
        run_plan = ftrain.Plan(**_shared(accelerator, planned))
    speed = run_plan.step_seconds / ft.gradient_accumulation / (REFERENCE_STEP_SECONDS / 4)
    # Before, after and, when continuing, the previous run's test holes (unless the same).
    evaluations = 3 if installed is not None and (installed.path / "holes.json.gz").is_file() \
        else 2
    eval_seconds = evaluations * ft.holes * SECONDS_PER_HOLE * speed + 60
    if main:
        say(f"plan: {run_plan.steps} steps of {ft.batch_size}×{ft.gradient_accumulation}×"
             f"{accelerator.num_processes} sequences of ≤{ft.sequence_tokens} tokens "
             f"({run_plan.epochs:.2f} epochs, set by {run_plan.limited_by}); "
             f"{run_plan.step_seconds:.1f} s per step measured; {trainable:,} of {total:,} "
             f"parameters trained ({ft.method})")
        say(f"estimated time: training {run_plan.seconds / 60:.0f} min + before/after "
             f"evaluation ~{eval_seconds / 60:.0f} min"
             + (" (the previous run's test holes included)" if evaluations == 3 else ""))
    if args.dry_run:
        return 0
    assert run_dir is not None

    # -- the base model on the test holes (cached per run) and the loss before training
    test_files = sorted(p for p, s in dataset.splits.items() if s == "test")
    hole_file = run_dir / "holes.json.gz" if run_dir else None
    base_file = run_dir / "base.json" if run_dir else None
    if main and run_dir is not None and base_file is not None and hole_file is not None:
        if hole_file.is_file() and base_file.is_file():
            hole_set = _holes_from_json(json.loads(gzip.decompress(hole_file.read_bytes())))
            base_run = _run_from_json(json.loads(base_file.read_text(encoding="utf-8")))
        else:
            hole_set = _eval_holes(corpus, test_files, ft)
            say(f"before: the base model completes {len(hole_set.holes)} holes in "
                 f"{len(hole_set.held_out)} test files")
            base_run, = _complete_holes(config, _load(config), corpus, ("base", hole_set))
            hole_file.write_bytes(gzip.compress(json.dumps(_holes_to_json(hole_set)).encode()))
            base_file.write_text(json.dumps(_run_json(base_run)), encoding="utf-8")
    accelerator.wait_for_everyone()

    state = ftrain.State()
    if not args.resume:
        initial = ftrain.mean_loss(model, dataset.validation, pad_id, accelerator)
        state.history.append({"step": 0, "validation_loss": initial})
        state.best_loss = initial
        base_test_loss = _base_loss(model, dataset.test, pad_id, accelerator, ft.method,
                                    continued=installed is not None)
        if run_dir is not None and main:
            (run_dir / "base_loss.json").write_text(json.dumps(
                {"validation": initial, "test": base_test_loss}), encoding="utf-8")
    accelerator.wait_for_everyone()
    losses = json.loads((run_dir / "base_loss.json").read_text()) if run_dir and main else {}

    from tqdm import tqdm

    bar = tqdm(total=run_plan.steps, initial=0, unit="step", disable=not main,
               desc="training", dynamic_ncols=True)

    def on_log(now: ftrain.State, point: dict[str, float]) -> None:
        bar.n = now.step
        shown = {"loss": f"{point['train_loss']:.3f}",
                 "tok/s": f"{now.tokens / max(now.seconds, 1e-9):.0f}"}
        if "validation_loss" in point:
            shown["val"] = f"{point['validation_loss']:.3f}"
        bar.set_postfix(shown, refresh=False)
        bar.refresh()

    try:
        state = ftrain.train(model, dataset.train, dataset.validation, ft, run_plan,
                             run_dir, accelerator, pad_id=pad_id,
                             resume=args.resume, on_log=on_log, state=state)
    except ftrain.Interrupted as stop:
        bar.close()
        say(f"\ninterrupted after step {stop.step} of {run_plan.steps}; the checkpoint is "
             f"saved. Continue with: kodama fine-tune {args.path} --resume")
        return EXIT_INTERRUPTED
    bar.close()
    if not main or run_dir is None:
        return 0
    say(f"training: {state.finished}; best validation loss {state.best_loss:.4f} at step "
         f"{state.best_step}")
    accelerator.free_memory()  # the accelerator holds the trained model and its optimiser
    del model, loaded
    gc.collect()
    release_memory()

    # -- the tuned model: test loss in the training format, then the holes as served
    improved = state.best_step > 0
    old_holes = _previous_holes(installed, corpus) if installed is not None else None
    # The same test files give the same holes, which the "after" run answers; weights that
    # never beat the installed adapter are that adapter, with nothing to measure again.
    same = old_holes is not None and old_holes.hash == hole_set.hash
    again = old_holes if old_holes is not None and not same and improved else None
    tuned = _load(config, adapter=run_dir / "best")
    tuned_test_loss = _plain_loss(tuned.model, dataset.test, pad_id)
    tuned_run, *old_runs = _complete_holes(config, tuned, corpus, ("tuned", hole_set),
                                           *([("old", again)] if again else []))
    del tuned
    gc.collect()

    continued = None if installed is None else Continued(installed.version, improved)
    forgetting: dict[str, Any] | None = None
    if installed is not None and old_holes is not None and (same or again):
        answered = tuned_run if same else old_runs[0]
        recorded = installed.meta.get("hole_results")
        continued = Continued(
            installed.version, improved, holes=len(old_holes.holes),
            exact=sum(r.exact for r in answered.results),
            previous_exact=None if recorded is None else sum(
                bool(recorded.get(_hole_key(h), False)) for h in old_holes.holes))
        forgetting = {**dataclasses.asdict(continued),
                      "base_exact": sum(r.exact for r in base_run.results) if same else None}
    install, decision = decide(base_run, tuned_run, ft.install, continued)
    wins, losses_n = paired_exact(base_run, tuned_run)
    report: dict[str, Any] = {
        "version": 1,
        "repository": str(root),
        "model": config.model.name,
        "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "decision": decision,
        "installed": False,
        "data": dataset.stats,
        "training": {
            "method": ft.method, "steps": state.step, "epochs": run_plan.epochs,
            "limited_by": run_plan.limited_by, "finished": state.finished,
            "tokens": state.tokens, "seconds": state.seconds,
            "tokens_per_second": state.tokens / max(state.seconds, 1e-9),
            "peak_memory_mb": _peak_mb(), "best_step": state.best_step,
            "best_validation_loss": state.best_loss,
            "initial_validation_loss": losses.get("validation"),
            "trainable_parameters": trainable, "total_parameters": total,
            "learning_rate": run_plan.learning_rate, "sequence_tokens": ft.sequence_tokens,
            "effective_batch": ft.batch_size * ft.gradient_accumulation
            * accelerator.num_processes,
            "history": state.history, "config": dataclasses.asdict(ft),
        },
        "results": {
            "holes": len(hole_set.holes), "hole_set": hole_set.hash, "test_files": test_files,
            "wins": wins, "losses": losses_n,
            "base": _summary(base_run, losses.get("test")),
            "tuned": _summary(tuned_run, tuned_test_loss),
        },
        "forgetting": forgetting,
    }
    report["wall_seconds"] = time.perf_counter() - started_wall
    _write_report(report, run_dir)
    if install:
        package = run_dir / "install"
        shutil.rmtree(package, ignore_errors=True)
        shutil.copytree(run_dir / "best", package)
        for name in ("report.md", "report.json", "report.png", "holes.json.gz"):
            shutil.copy2(run_dir / name, package / name)
        done = store.install(root, package, {
            "model": config.model.name, "method": ft.method, "source_files": dataset.hashes,
            "splits": dataset.splits, "results": report["results"],
            "hole_results": {_hole_key(h): r.exact
                             for h, r in zip(hole_set.holes, tuned_run.results, strict=True)},
        })
        report["installed"] = done.version
        shutil.rmtree(package, ignore_errors=True)
        _write_report(report, run_dir)
        store.prune(root)
    (run_dir / "done").write_text(decision + "\n", encoding="utf-8")
    if args.report_dir is not None:
        args.report_dir.mkdir(parents=True, exist_ok=True)
        for name in ("report.md", "report.json", "report.png"):
            shutil.copy2(run_dir / name, args.report_dir / name)
    print(markdown(report, picture_name=None))
    say(f"report: {run_dir / 'report.md'} (picture {run_dir / 'report.png'})")
    say(decision + (f" — version {report['installed']}; `kodama serve` uses it for {root}"
                     if report["installed"] else ""))
    return 0


def _hole_key(hole: Hole) -> str:
    """A hole's identity across runs (two holes can start on one line)."""
    return f"{hole.path}:{hole.kind}:{len(hole.prefix)}:{len(hole.middle)}"


def _previous_holes(installed: Installed, corpus: fdata.Corpus) -> HoleSet | None:
    """The holes of the run that made ``installed`` whose files are unchanged (None: none)."""
    file = installed.path / "holes.json.gz"
    if not file.is_file():
        return None
    kept = _still_valid(corpus, _holes_from_json(json.loads(gzip.decompress(file.read_bytes()))))
    return kept if kept.holes else None


def _still_valid(corpus: fdata.Corpus, hole_set: HoleSet) -> HoleSet:
    """The previous run's holes whose file is unchanged (a changed file's holes are moot)."""
    current = {s.path: s.text for s in corpus.files}
    kept = tuple(h for h in hole_set.holes
                 if current.get(h.path) == h.prefix + h.middle + h.suffix)
    return dataclasses.replace(hole_set, holes=kept)


def _base_loss(model: Any, sequences: list[fdata.Sequence_], pad_id: int, accelerator: Any,
               method: str, *, continued: bool) -> float | None:
    """Test loss of the base model: the untrained model itself, or — when training continues
    from an installed LoRA adapter — the model with the adapter switched off (None for the
    other methods, whose starting weights are not the base model's)."""
    from kodama.model.finetune.train import mean_loss

    if not continued:
        return mean_loss(model, sequences, pad_id, accelerator)
    if method != "lora":
        return None
    with model.disable_adapter():
        return mean_loss(model, sequences, pad_id, accelerator)


def _plain_loss(model: Any, sequences: list[fdata.Sequence_], pad_id: int) -> float:
    """Mean per-token loss of a plain (single-process) model."""
    import torch

    from kodama.model.finetune.train import batch_loss, collate

    total = tokens = 0.0
    with torch.no_grad():
        for sequence in sequences:
            loss, count = batch_loss(model, collate([sequence], pad_id))
            total += float(loss) * count
            tokens += count
    return total / tokens if tokens else math.nan


def _write_report(report: dict[str, Any], run_dir: Path) -> None:
    (run_dir / "report.json").write_text(json.dumps(report, indent=1, default=str) + "\n",
                                         encoding="utf-8")
    picture(report, run_dir / "report.png")
    (run_dir / "report.md").write_text(markdown(report), encoding="utf-8")
