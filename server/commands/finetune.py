"""``kodama fine-tune PATH`` and ``kodama adapters``: the command line of fine-tuning.

Argument parsing and what the user sees. The work is :mod:`kodama.model.finetune.pipeline`:
this calls its stages in turn (data, plan, the base model measured, training, the tuned model
measured, the report and the install decision) and prints what each one found. Run under
``accelerate launch`` the same code trains with several processes; the main process alone
speaks.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import typing
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kodama.model.finetune.dataset import DataStats, PreparedDataset
from kodama.model.finetune.report import REPORT_FILES, FineTuneReport, markdown
from kodama.model.finetune.run import Hooks, Request, Run, Settings
from kodama.model.finetune.store import AdapterStore, Installed
from kodama.server.commands.progress import HoleProgress, TerminalProgress
from kodama.server.config import FineTuneConfig, KodamaConfig, describe
from kodama.server.setup import settings_from

if TYPE_CHECKING:  # the pipeline imports torch: only once a fine-tune runs
    from kodama.model.finetune.pipeline import BaseMeasure, Training
    from kodama.model.finetune.train import State

EXIT_INTERRUPTED = 130


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
                "  kodama fine-tune . --list-files     every file read (its split) or skipped "
                "(why)\n"
                "  kodama fine-tune .                  train, compare, install if better\n"
                "  kodama fine-tune . --resume         continue an interrupted run\n"
                "  kodama adapters rollback .          go back to the previous adapter\n"
                "  accelerate launch --multi_gpu --num_processes N -m kodama.server fine-tune .\n"
                "                                      N processes/GPUs (README: For teams)"),
    )
    parser.add_argument("path", type=Path, metavar="PATH", help="the repository's root folder")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the data statistics and the estimated time, do not train")
    parser.add_argument("--list-files", action="store_true",
                        help="list every file the run would read, with its split, and every "
                             "path it skips, with the reason, then stop (no model is loaded): "
                             "one line per path, 'SPLIT<TAB>PATH' or 'skip<TAB>PATH<TAB>REASON' "
                             "(a folder's path ends with '/'; tabs, line breaks and backslashes "
                             "in paths written \\t, \\n, \\\\), sorted by path")
    parser.add_argument("--json", action="store_true",
                        help="with --list-files: one JSON object instead, {format, root, "
                             "files: [{path, split} or {path, skipped}]}")
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
                                  "help": f"{doc} (default {default})".replace("%", "%%")}
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
            loaded = load_model(spec, adapter=current.path, progress=TerminalProgress().report)
            return loaded.model, loaded.tokenizer

        export_merged(load, dest, name=name, base=base)
    else:
        export_lora(current.path, dest, name=name, base=base)
    print(f"exported adapter {current.version} of {root} to {dest} as {name!r}; "
          f"see {dest / 'SERVING.md'}")
    return 0


# ------------------------------------------------------------------------ the run
def _say(message: str) -> None:
    """A line for the user, on standard error."""
    print(message, file=sys.stderr, flush=True)


def _model_load_progress() -> Any:
    """Model loads shown on a terminal only (a line rewritten in place, cleared when done)."""
    writer = TerminalProgress()

    def report(message: str, fraction: float | None) -> None:
        if writer.on_terminal:
            writer.report(message, fraction)
            if fraction == 1.0:
                writer.clear()

    return report


def _hole_progress(label: str) -> HoleProgress:
    """A bar over one labelled pass over the holes."""
    return HoleProgress(f"{label:>5}")


def print_stats(stats: DataStats, root: Path) -> None:
    """The data statistics, as the user sees them."""
    _say(f"data: {root}")
    for name, split in stats.splits.items():
        _say(f"  {name:<10} {split.files:>5} files {split.lines:>8,} lines "
             f"{split.examples:>7,} examples {split.tokens:>10,} tokens "
             f"→ {split.sequences:,} sequences")
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(stats.example_kinds.items()))
    _say(f"  training examples by kind: {kinds}")
    if stats.skipped:
        _say("  left out: " + ", ".join(f"{reason} {count}"
                                        for reason, count in sorted(stats.skipped.items())))
    else:
        _say("  left out: nothing (beyond ignored, vendored and non-source files)")
    if stats.continued_from:
        _say(f"  continuing from adapter {stats.continued_from}: "
             f"{stats.changed_files} training files changed (plus as much replayed)")


def _print_plan(run: Run, training: Training) -> None:
    ft, run_plan = run.settings.fine_tune, training.plan
    processes = run.accelerator.num_processes
    _say(f"plan: {run_plan.steps} steps of {ft.batch_size}×{ft.gradient_accumulation}×"
         f"{processes} sequences of ≤{ft.sequence_tokens} tokens "
         f"({run_plan.epochs:.2f} epochs, set by {run_plan.limited_by}); "
         f"{run_plan.step_seconds:.1f} s per step measured; {training.trainable:,} of "
         f"{training.total:,} parameters trained ({ft.method})")
    if run.memory is not None:
        _say(run.memory.summary())
    _say(f"estimated time: training {run_plan.seconds / 60:.0f} min + before/after "
         f"evaluation ~{training.evaluation_seconds / 60:.0f} min"
         + (" (the previous run's test holes included)" if training.evaluations == 3 else ""))


def _train(run: Run, dataset: PreparedDataset, training: Training,
           base: BaseMeasure) -> State:
    """Training, with a progress bar (loss, tokens per second, validation loss)."""
    from tqdm import tqdm

    from kodama.model.finetune import pipeline

    bar = tqdm(total=training.plan.steps, initial=0, unit="step", disable=not run.main,
               desc="training", dynamic_ncols=True)

    def on_log(now: State, point: dict[str, float]) -> None:
        bar.n = now.step
        shown = {"loss": f"{point['train_loss']:.3f}",
                 "tok/s": f"{now.tokens / max(now.seconds, 1e-9):.0f}"}
        if "validation_loss" in point:
            shown["val"] = f"{point['validation_loss']:.3f}"
        bar.set_postfix(shown, refresh=False)
        bar.refresh()

    try:
        return pipeline.train_model(run, dataset, training, base, on_step=on_log)
    finally:
        bar.close()


def _show_report(report: FineTuneReport, folder: Path, copy_to: Path | None) -> None:
    if copy_to is not None:
        copy_to.mkdir(parents=True, exist_ok=True)
        for name in REPORT_FILES:
            shutil.copy2(folder / name, copy_to / name)
    print(markdown(report, picture_name=None))
    _say(f"report: {folder / 'report.md'} (picture {folder / 'report.png'})")
    _say(report.decision + (f" — version {report.installed}; `kodama serve` uses it for "
                            f"{report.repository}" if report.installed else ""))


def _escaped(path: str) -> str:
    """A path on one line of the listing: backslashes, tabs and line breaks escaped."""
    return path.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace(
        "\r", "\\r")


def list_files(args: argparse.Namespace, config: KodamaConfig) -> int:
    """``kodama fine-tune PATH --list-files [--json]``: what the run would read, and skip."""
    from kodama.model.finetune.data import audit

    root = Path(args.path)
    if not root.is_dir():
        raise ValueError(f"{root} is not a folder: kodama fine-tune needs a repository root")
    found = audit(root, config.fine_tune)
    if args.json:
        print(json.dumps(found.to_json(), indent=2, ensure_ascii=False))
    else:
        for status, path, reason in found.rows():
            print("\t".join([status, _escaped(path), *([reason] if reason else [])]))
    splits = Counter(found.read.values())
    kinds = Counter(reason.split(":", 1)[0].split(" of ", 1)[0]
                    for reason in found.skipped.values())
    _say(f"{found.root}: {len(found.read)} files read ("
         + ", ".join(f"{name} {splits[name]}" for name in ("train", "validation", "test"))
         + f"), {len(found.skipped)} paths skipped ("
         + ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items())) + ")")
    return 0


def pipeline_settings(config: KodamaConfig) -> Settings:
    """What the pipeline reads of the configuration: the holes are completed with the budgets
    serving uses, the repository context's (``context.tokens``) included."""
    return Settings(config.model, config.fine_tune,
                    settings_from(config.completion, config.context))


def run(args: argparse.Namespace, config: KodamaConfig) -> int:
    """``kodama fine-tune``; 0 when it finished (installed or not), 130 when interrupted."""
    if args.list_files:
        return list_files(args, config)
    if args.json:
        raise ValueError("--json goes with --list-files (kodama fine-tune PATH --list-files "
                         "--json)")
    from kodama.model.finetune import pipeline
    from kodama.model.finetune.train import Interrupted

    request = Request(Path(args.path), resume=args.resume, fresh=args.fresh,
                      dry_run=args.dry_run)
    settings = pipeline_settings(config)
    hooks = Hooks(say=_say, load_progress=_model_load_progress(), hole_progress=_hole_progress)
    fine_tune = pipeline.open_run(request, settings, hooks)
    dataset = pipeline.prepare_data(fine_tune)
    if dataset is None:
        version = fine_tune.installed.version if fine_tune.installed is not None else "?"
        fine_tune.say(f"no training file changed since the installed adapter {version}; "
                      "nothing new to learn (use --fresh to train again from the base model)")
        return 0
    if request.resume and fine_tune.folder is not None:
        fine_tune.say(f"resuming {fine_tune.folder}")
    if fine_tune.main:
        print_stats(dataset.stats, fine_tune.root)
    training = pipeline.plan_training(fine_tune, dataset)
    if fine_tune.main:
        _print_plan(fine_tune, training)
    if request.dry_run:
        return 0
    base = pipeline.measure_base(fine_tune, dataset, training)
    try:
        state = _train(fine_tune, dataset, training, base)
    except Interrupted as stop:
        fine_tune.say(f"\ninterrupted after step {stop.step} of {training.plan.steps}; the "
                      f"checkpoint is saved. Continue with: kodama fine-tune {args.path} --resume")
        return EXIT_INTERRUPTED
    if not fine_tune.main or fine_tune.folder is None:
        return 0
    fine_tune.say(f"training: {state.finished}; best validation loss {state.best_loss:.4f} at "
                  f"step {state.best_step}")
    tuned = pipeline.measure_tuned(fine_tune, dataset, training, base, state)
    report = pipeline.decide_and_install(fine_tune, dataset, training, base, tuned, state)
    _show_report(report, fine_tune.folder, args.report_dir)
    return 0
