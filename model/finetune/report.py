"""The fine-tune report: Markdown for people, JSON for tools, a picture of the loss curves and
the before/after scores.

:func:`decide` is the install rule (with :class:`Continued` for a run that continued from an
installed adapter); :func:`markdown` and :func:`picture` render a report
dictionary that :mod:`kodama.server.finetune_command` assembles (keys documented there).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kodama.model.evaluation import RunResult, paired_exact, summarize


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


def _or_dash(value: Any) -> str:
    return "–" if value is None else str(value)


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def _loss(value: Any) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else \
        f"{value:.3f} (ppl {math.exp(min(value, 50)):.2f})"


def markdown(report: Mapping[str, Any], picture_name: str | None = "report.png") -> str:
    """The report as Markdown."""
    data, training, results = report["data"], report["training"], report["results"]
    lines = [f"# kodama fine-tune: {report['repository']}", "",
             f"{report['started']} · model {report['model']} · method {training['method']}"
             f" · {report['decision']}", ""]
    if picture_name:
        lines += [f"![loss curves and before/after scores]({picture_name})", ""]
    lines += ["## Before and after, on held-out files", "",
              "| model | exact match | edit similarity | still parses | empty | test loss |",
              "|---|---:|---:|---:|---:|---:|"]
    for name in ("base", "tuned"):
        row = results[name]
        parses = "–" if row["parse_rate"] is None else _pct(row["parse_rate"])
        lines.append(f"| {name} | {_pct(row['exact_match'])} ({row['exact_count']}/"
                     f"{row['holes']}) | {row['edit_similarity']:.3f} | {parses} | "
                     f"{_pct(row['empty_rate'])} | {_loss(row.get('test_loss'))} |")
    lines += ["", f"Holes: {results['holes']} ({results['hole_set']}), in "
              f"{len(results['test_files'])} test files never trained on; paired exact "
              f"matches +{results['wins']}/-{results['losses']}.", ""]
    if data.get("continued_from") and not training["best_step"]:
        lines += [f"No validation beat the installed adapter {data['continued_from']}: the "
                  "\"tuned\" row is that adapter, which stays in use.", ""]
    forgetting = report.get("forgetting")
    if forgetting:
        lines += ["## Continual learning: the previous test files", "",
                  f"On the {forgetting['holes']} holes of the previous run: previous adapter "
                  f"{_or_dash(forgetting['previous_exact'])}, this one {forgetting['exact']} exact "
                  f"matches (base {_or_dash(forgetting.get('base_exact'))}).", ""]
    lines += ["## Training", "",
              f"- {training['steps']} steps ({training['epochs']:.2f} epochs; "
              f"{training['limited_by']}), {training['finished']}",
              f"- {training['tokens']:,} tokens in {training['seconds'] / 60:.1f} min "
              f"({training['tokens_per_second']:.0f} tokens/s), peak memory "
              f"{training['peak_memory_mb']:.0f} MB",
              f"- best validation loss {_loss(training['best_validation_loss'])} at step "
              f"{training['best_step']} (before training "
              f"{_loss(training['initial_validation_loss'])})",
              f"- trainable parameters {training['trainable_parameters']:,} of "
              f"{training['total_parameters']:,}; learning rate "
              f"{training['learning_rate']:g}, sequence {training['sequence_tokens']} tokens, "
              f"effective batch "
              f"{training['effective_batch']} sequences", "",
              "## Data", "",
              "| split | files | lines | examples | tokens |", "|---|---:|---:|---:|---:|"]
    for name, split in data["splits"].items():
        lines.append(f"| {name} | {split['files']} | {split['lines']:,} | {split['examples']:,} "
                     f"| {split['tokens']:,} |")
    kinds = ", ".join(f"{kind} {count}" for kind, count in data["example_kinds"].items())
    lines += ["", f"Examples by kind (training): {kinds}.", ""]
    if data["skipped"]:
        lines += ["Left out:", ""]
        lines += [f"- {reason}: {count}" for reason, count in data["skipped"].items()]
        lines.append("")
    wall = report.get("wall_seconds")
    if wall is not None:
        lines += [f"Wall time, data to report: {wall / 60:.1f} min.", ""]
    return "\n".join(lines)


def picture(report: Mapping[str, Any], path: Path) -> None:
    """Loss curves (training, smoothed, and validation) beside the before/after scores (and,
    for a continued run, the previous adapter against this one on the previous test holes)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    history: Sequence[Mapping[str, float]] = report["training"]["history"]
    train = [(p["step"], p["train_loss"]) for p in history if "train_loss" in p]
    valid = [(p["step"], p["validation_loss"]) for p in history if "validation_loss" in p]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), width_ratios=(3, 2))
    if train:
        steps, values = zip(*train, strict=True)
        left.plot(steps, values, color="#9bb7d4", linewidth=0.8, label="training (per step)")
        smooth, level = [], values[0]
        for value in values:
            level = 0.9 * level + 0.1 * value
            smooth.append(level)
        left.plot(steps, smooth, color="#1f5fa8", linewidth=1.8, label="training (smoothed)")
    if valid:
        steps, values = zip(*valid, strict=True)
        left.plot(steps, values, "o-", color="#d9641e", label="validation")
    best = report["training"].get("best_step")
    if best:
        left.axvline(best, color="#888888", linestyle=":", label=f"best (step {best})")
    left.set_xlabel("optimiser step")
    left.set_ylabel("loss per token")
    left.set_title("Loss")
    left.legend(fontsize=8)
    results = report["results"]
    labels = ["exact match", "edit similarity"]
    base = [results["base"]["exact_match"], results["base"]["edit_similarity"]]
    tuned = [results["tuned"]["exact_match"], results["tuned"]["edit_similarity"]]
    xs = range(len(labels))
    right.bar([x - 0.2 for x in xs], base, 0.4, label="base", color="#9a9a9a")
    right.bar([x + 0.2 for x in xs], tuned, 0.4, label="fine-tuned", color="#2e8b57")
    for x, (b, t) in enumerate(zip(base, tuned, strict=True)):
        right.text(x - 0.2, b, f"{b:.2f}", ha="center", va="bottom", fontsize=8)
        right.text(x + 0.2, t, f"{t:.2f}", ha="center", va="bottom", fontsize=8)
    forgetting = report.get("forgetting")
    if forgetting and forgetting.get("previous_exact") is not None and forgetting["holes"]:
        # Continual learning: the previous run's test holes, previous adapter against this one.
        x = len(labels)
        before = forgetting["previous_exact"] / forgetting["holes"]
        after = forgetting["exact"] / forgetting["holes"]
        right.bar(x - 0.2, before, 0.4, label="previous adapter", color="#c9a227")
        right.bar(x + 0.2, after, 0.4, color="#2e8b57")
        right.text(x - 0.2, before, f"{before:.2f}", ha="center", va="bottom", fontsize=8)
        right.text(x + 0.2, after, f"{after:.2f}", ha="center", va="bottom", fontsize=8)
        labels.append(f"exact match,\nprevious test holes ({forgetting['holes']})")
        xs = range(len(labels))
    right.set_xticks(list(xs), labels)
    right.set_ylim(0, 1)
    right.set_title(f"Held-out holes ({results['holes']})")
    right.legend(fontsize=8)
    fig.suptitle(f"kodama fine-tune — {Path(str(report['repository'])).name}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
