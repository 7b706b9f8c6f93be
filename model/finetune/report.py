"""The fine-tune report: what a run found, typed (:class:`FineTuneReport`), and rendered as
Markdown for people, JSON for tools and a picture of the loss curves and the before/after
scores (:func:`write_report`).

:func:`decide` is the install rule (with :class:`Continued` for a run that continued from an
installed adapter).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kodama.model.evaluation import HoleSet, RunResult, Summary, paired_exact, summarize
from kodama.model.finetune.dataset import DataStats

REPORT_FILES = ("report.md", "report.json", "report.png")
"""The report's files in the run folder."""


@dataclass(frozen=True)
class Continued:
    """What a run that continued from an installed adapter is judged on, besides the base."""

    version: str
    """The installed adapter it started from."""
    improved: bool
    """Some validation beat the installed adapter's validation loss."""
    holes: int = 0
    """Holes of the previous run's test files (still in the repository), answered again."""
    exact: int = 0
    """How many of them the new adapter matches exactly."""
    previous_exact: int | None = None
    """How many the installed adapter matched (None: it recorded no per-hole results)."""

    def forgot(self) -> bool:
        """The new adapter lost more of the previous test holes than noise explains: more
        than 2 of them, or 5 %."""
        return self.previous_exact is not None and \
            self.exact < self.previous_exact - max(2, self.holes // 20)


def decide(base: RunResult, tuned: RunResult, policy: str,
           continued: Continued | None = None) -> tuple[bool, str]:
    """Whether to install, and why.

    ``better``: the tuned model exactly matches more held-out holes than the base model, or as
    many with a higher mean edit similarity; after ``continued`` training it must also have
    improved on the installed adapter's validation loss and not have forgotten the previous
    run's test holes (:meth:`Continued.forgot`). ``always`` / ``never`` say so.
    """
    b, t = summarize(base.results), summarize(tuned.results)
    wins, losses = paired_exact(base, tuned)
    versus = (f"exact match {t.exact_count}/{t.holes} vs base {b.exact_count}/{b.holes} "
              f"(+{wins}/-{losses}), edit similarity {t.edit_similarity:.3f} vs "
              f"{b.edit_similarity:.3f}")
    better = t.exact_count > b.exact_count or (
        t.exact_count == b.exact_count and t.edit_similarity > b.edit_similarity + 1e-9)
    if policy == "always":
        return True, f"installed (install=always): {versus}"
    if policy == "never":
        return False, f"not installed (--no-install): {versus}"
    if continued is not None and not continued.improved:
        return False, (f"not installed: no validation improved on the installed adapter "
                       f"{continued.version}, which stays in use")
    if not better:
        return False, f"not installed: not better than the base model on held-out files — {versus}"
    if continued is not None and continued.forgot():
        return False, (f"not installed: it forgot what the installed adapter "
                       f"{continued.version} knew ({continued.exact} vs "
                       f"{continued.previous_exact} exact on its test holes), which stays in use")
    return True, f"installed: better than the base model on held-out files — {versus}"


@dataclass(frozen=True)
class Forgetting:
    """A continued run on the previous run's test holes (those whose files did not change)."""

    version: str
    """The installed adapter the run continued from."""
    improved: bool
    """Some validation beat that adapter's validation loss."""
    holes: int
    exact: int
    """Holes the new weights match exactly."""
    previous_exact: int | None
    """Holes the installed adapter matched (None: it recorded no per-hole results)."""
    base_exact: int | None
    """Holes the base model matched (None: the holes differ from this run's)."""


@dataclass(frozen=True)
class Scores:
    """One model on the held-out holes, and its loss on the test sequences."""

    summary: Summary
    test_loss: float | None

    def to_json(self) -> dict[str, Any]:
        """The summary's fields and ``test_loss``."""
        return {**asdict(self.summary), "test_loss": self.test_loss}


@dataclass(frozen=True)
class Results:
    """Before and after, on the holes of the held-out test files."""

    holes: int
    hole_set: str
    """The hole set's hash."""
    test_files: list[str]
    wins: int
    """Holes only the tuned model matches exactly."""
    losses: int
    """Holes only the base model matches exactly."""
    base: Scores
    tuned: Scores

    @classmethod
    def of(cls, hole_set: HoleSet, test_files: list[str], base: RunResult, tuned: RunResult,
           base_loss: float | None, tuned_loss: float | None) -> Results:
        """The results of the base and the tuned run on ``hole_set``, with their test losses."""
        wins, losses = paired_exact(base, tuned)
        return cls(len(hole_set.holes), hole_set.hash, test_files, wins, losses,
                   Scores(summarize(base.results), base_loss),
                   Scores(summarize(tuned.results), tuned_loss))

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data (also recorded with an installed adapter)."""
        return {"holes": self.holes, "hole_set": self.hole_set, "test_files": self.test_files,
                "wins": self.wins, "losses": self.losses, "base": self.base.to_json(),
                "tuned": self.tuned.to_json()}


@dataclass(frozen=True)
class TrainingSummary:
    """How training went."""

    method: str
    steps: int
    epochs: float
    limited_by: str
    finished: str
    tokens: int
    seconds: float
    tokens_per_second: float
    peak_memory_mb: float
    best_step: int
    best_validation_loss: float
    initial_validation_loss: float | None
    trainable_parameters: int
    total_parameters: int
    learning_rate: float
    sequence_tokens: int
    effective_batch: int
    history: list[dict[str, float]]
    config: dict[str, Any]
    """The ``fine_tune`` settings of the run."""
    memory_plan: dict[str, Any] | None = None
    """The memory plan: batch, sequence length, checkpointing, the budget and the estimated
    peak, whole and by part, in bytes (``MemoryPlan.to_json`` of :mod:`.planning`), to set
    against ``peak_memory_mb``; None when the run had none."""


@dataclass
class FineTuneReport:
    """Everything a run found, and what was decided."""

    repository: str
    model: str
    started: str
    decision: str
    data: DataStats
    training: TrainingSummary
    results: Results
    forgetting: Forgetting | None
    installed: str | None = None
    """The version installed (None: not installed)."""
    wall_seconds: float | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data (``report.json``)."""
        return {"version": 1, "repository": self.repository, "model": self.model,
                "started": self.started, "decision": self.decision,
                "installed": self.installed or False, "data": asdict(self.data),
                "training": asdict(self.training), "results": self.results.to_json(),
                "forgetting": None if self.forgetting is None else asdict(self.forgetting),
                "wall_seconds": self.wall_seconds}


def _or_dash(value: Any) -> str:
    return "–" if value is None else str(value)


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def _loss(value: float | None) -> str:
    return "–" if value is None or math.isnan(value) else \
        f"{value:.3f} (ppl {math.exp(min(value, 50)):.2f})"


def _comparison(report: FineTuneReport) -> list[str]:
    results = report.results
    lines = ["## Before and after, on held-out files", "",
             "| model | exact match | edit similarity | still parses | empty | test loss |",
             "|---|---:|---:|---:|---:|---:|"]
    for name, scores in (("base", results.base), ("tuned", results.tuned)):
        row = scores.summary
        parses = "–" if row.parse_rate is None else _pct(row.parse_rate)
        lines.append(f"| {name} | {_pct(row.exact_match)} ({row.exact_count}/"
                     f"{row.holes}) | {row.edit_similarity:.3f} | {parses} | "
                     f"{_pct(row.empty_rate)} | {_loss(scores.test_loss)} |")
    lines += ["", f"Holes: {results.holes} ({results.hole_set}), in "
              f"{len(results.test_files)} test files never trained on; paired exact "
              f"matches +{results.wins}/-{results.losses}.", ""]
    if report.data.continued_from and not report.training.best_step:
        lines += [f"No validation beat the installed adapter {report.data.continued_from}: the "
                  "\"tuned\" row is that adapter, which stays in use.", ""]
    forgetting = report.forgetting
    if forgetting:
        lines += ["## Continual learning: the previous test files", "",
                  f"On the {forgetting.holes} holes of the previous run: previous adapter "
                  f"{_or_dash(forgetting.previous_exact)}, this one {forgetting.exact} exact "
                  f"matches (base {_or_dash(forgetting.base_exact)}).", ""]
    return lines


def _estimated(memory_plan: dict[str, Any] | None) -> str:
    """The memory plan's estimated peak and budget, for the line of the measured peak."""
    if not memory_plan:
        return ""
    return (f" (estimated {memory_plan['peak'] / 1e6:.0f} MB of "
            f"{memory_plan['budget'] / 1e6:.0f} MB allowed)")


def _training_and_data(report: FineTuneReport) -> list[str]:
    data, training = report.data, report.training
    lines = ["## Training", "",
             f"- {training.steps} steps ({training.epochs:.2f} epochs; "
             f"{training.limited_by}), {training.finished}",
             f"- {training.tokens:,} tokens in {training.seconds / 60:.1f} min "
             f"({training.tokens_per_second:.0f} tokens/s), peak memory "
             f"{training.peak_memory_mb:.0f} MB" + _estimated(training.memory_plan),
             f"- best validation loss {_loss(training.best_validation_loss)} at step "
             f"{training.best_step} (before training "
             f"{_loss(training.initial_validation_loss)})",
             f"- trainable parameters {training.trainable_parameters:,} of "
             f"{training.total_parameters:,}; learning rate "
             f"{training.learning_rate:g}, sequence {training.sequence_tokens} tokens, "
             f"effective batch "
             f"{training.effective_batch} sequences", "",
             "## Data", "",
             "| split | files | lines | examples | tokens |", "|---|---:|---:|---:|---:|"]
    for name, split in data.splits.items():
        lines.append(f"| {name} | {split.files} | {split.lines:,} | {split.examples:,} "
                     f"| {split.tokens:,} |")
    kinds = ", ".join(f"{kind} {count}" for kind, count in data.example_kinds.items())
    lines += ["", f"Examples by kind (training): {kinds}.", ""]
    if data.skipped:
        lines += ["Left out:", ""]
        lines += [f"- {reason}: {count}" for reason, count in data.skipped.items()]
        lines.append("")
    return lines


def markdown(report: FineTuneReport, picture_name: str | None = "report.png") -> str:
    """The report as Markdown."""
    lines = [f"# kodama fine-tune: {report.repository}", "",
             f"{report.started} · model {report.model} · method {report.training.method}"
             f" · {report.decision}", ""]
    if picture_name:
        lines += [f"![loss curves and before/after scores]({picture_name})", ""]
    lines += _comparison(report) + _training_and_data(report)
    if report.wall_seconds is not None:
        lines += [f"Wall time, data to report: {report.wall_seconds / 60:.1f} min.", ""]
    return "\n".join(lines)


def write_report(report: FineTuneReport, folder: Path) -> None:
    """Write the report's files (:data:`REPORT_FILES`) into ``folder``."""
    (folder / "report.json").write_text(
        json.dumps(report.to_json(), indent=1, default=str) + "\n", encoding="utf-8")
    picture(report, folder / "report.png")
    (folder / "report.md").write_text(markdown(report), encoding="utf-8")


def _loss_curves(axes: Any, training: TrainingSummary) -> None:
    """Training loss (per step and smoothed), validation loss and the best step."""
    train = [(p["step"], p["train_loss"]) for p in training.history if "train_loss" in p]
    valid = [(p["step"], p["validation_loss"]) for p in training.history
             if "validation_loss" in p]
    if train:
        steps, values = zip(*train, strict=True)
        axes.plot(steps, values, color="#9bb7d4", linewidth=0.8, label="training (per step)")
        smooth, level = [], values[0]
        for value in values:
            level = 0.9 * level + 0.1 * value
            smooth.append(level)
        axes.plot(steps, smooth, color="#1f5fa8", linewidth=1.8, label="training (smoothed)")
    if valid:
        steps, values = zip(*valid, strict=True)
        axes.plot(steps, values, "o-", color="#d9641e", label="validation")
    if training.best_step:
        axes.axvline(training.best_step, color="#888888", linestyle=":",
                     label=f"best (step {training.best_step})")
    axes.set_xlabel("optimiser step")
    axes.set_ylabel("loss per token")
    axes.set_title("Loss")
    axes.legend(fontsize=8)


def _score_bars(axes: Any, results: Results, forgetting: Forgetting | None) -> None:
    """Base against tuned (and, for a continued run, the previous adapter against this one on
    the previous test holes)."""
    labels = ["exact match", "edit similarity"]
    base = [results.base.summary.exact_match, results.base.summary.edit_similarity]
    tuned = [results.tuned.summary.exact_match, results.tuned.summary.edit_similarity]
    xs = range(len(labels))
    axes.bar([x - 0.2 for x in xs], base, 0.4, label="base", color="#9a9a9a")
    axes.bar([x + 0.2 for x in xs], tuned, 0.4, label="fine-tuned", color="#2e8b57")
    for x, (b, t) in enumerate(zip(base, tuned, strict=True)):
        axes.text(x - 0.2, b, f"{b:.2f}", ha="center", va="bottom", fontsize=8)
        axes.text(x + 0.2, t, f"{t:.2f}", ha="center", va="bottom", fontsize=8)
    if forgetting and forgetting.previous_exact is not None and forgetting.holes:
        x = len(labels)
        before = forgetting.previous_exact / forgetting.holes
        after = forgetting.exact / forgetting.holes
        axes.bar(x - 0.2, before, 0.4, label="previous adapter", color="#c9a227")
        axes.bar(x + 0.2, after, 0.4, color="#2e8b57")
        axes.text(x - 0.2, before, f"{before:.2f}", ha="center", va="bottom", fontsize=8)
        axes.text(x + 0.2, after, f"{after:.2f}", ha="center", va="bottom", fontsize=8)
        labels.append(f"exact match,\nprevious test holes ({forgetting.holes})")
        xs = range(len(labels))
    axes.set_xticks(list(xs), labels)
    axes.set_ylim(0, 1)
    axes.set_title(f"Held-out holes ({results.holes})")
    axes.legend(fontsize=8)


def picture(report: FineTuneReport, path: Path) -> None:
    """Loss curves beside the before/after scores, as a PNG at ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), width_ratios=(3, 2))
    _loss_curves(left, report.training)
    _score_bars(right, report.results, report.forgetting)
    fig.suptitle(f"kodama fine-tune — {Path(report.repository).name}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
