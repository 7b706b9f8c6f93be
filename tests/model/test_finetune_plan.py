"""Sizing a fine-tune (epochs, step cap, time budget), sharding its steps over processes, the
loss on labelled tokens only, and the install rule."""

from __future__ import annotations

import math

import pytest
import torch

from kodama.model.evaluation import HoleResult, RunResult
from kodama.model.finetune import train as ftrain
from kodama.model.finetune.data import IGNORE_INDEX, Sequence_
from kodama.model.finetune.report import Continued, decide
from kodama.server.config import FineTuneConfig


def test_auto_epochs_scale_with_the_data() -> None:
    assert ftrain.auto_epochs(10_000) == 3.0
    assert ftrain.auto_epochs(150_000) == 2.0
    assert ftrain.auto_epochs(3_000_000) == 1.0


def test_plan_respects_epochs_the_step_cap_and_the_time_budget() -> None:
    config = FineTuneConfig(gradient_accumulation=4, max_minutes=0, epochs=2)
    free = ftrain.plan(config, sequences=400, train_tokens=200_000, step_seconds=20)
    assert (free.steps, free.limited_by) == (200, "epochs")
    assert free.epochs == pytest.approx(2.0)
    assert free.eval_every == math.ceil(200 / 6)
    capped = ftrain.plan(FineTuneConfig(max_steps=50, max_minutes=0, epochs=2), 400, 1, 20)
    assert (capped.steps, capped.limited_by) == (50, "max_steps")
    timed = ftrain.plan(FineTuneConfig(max_minutes=10, epochs=2), 400, 1, step_seconds=20,
                        validation_sequences=16)
    assert timed.limited_by == "time budget"
    assert timed.seconds <= 10 * 60 + 1e-6
    assert timed.seconds > 10 * 60 - 20 - timed.validation_seconds  # it uses the budget
    assert timed.learning_rate == ftrain.DEFAULT_LEARNING_RATES["lora"]
    assert ftrain.plan(FineTuneConfig(learning_rate=1e-3), 10, 1, 1).learning_rate == 1e-3


def test_processes_share_every_step_without_overlap_and_resume_exactly() -> None:
    count = 37
    seen: list[int] = []
    for micro in range(12):
        per_rank = [ftrain.batch_indices(count, 5, micro, 2, rank, 3) for rank in range(3)]
        flat = [i for part in per_rank for i in part]
        assert len(set(flat)) == len(flat) or micro * 6 // count != (micro * 6 + 5) // count
        seen += flat
    # The first epoch's 37 sequences all come up before any repeats.
    assert sorted(seen[:count]) == list(range(count))
    assert ftrain.batch_indices(count, 5, 7, 2, 1, 3) == ftrain.batch_indices(count, 5, 7, 2, 1, 3)
    assert ftrain.batch_indices(count, 6, 0, 8, 0, 1) != ftrain.batch_indices(count, 5, 0, 8, 0, 1)


class Recorder(torch.nn.Module):
    """A stand-in model: logits from an embedding, recording which positions it was asked."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = torch.nn.Embedding(50, 50)
        self.kept: torch.Tensor | None = None

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                logits_to_keep: torch.Tensor) -> object:
        self.kept = logits_to_keep
        logits = self.embed(input_ids)[:, logits_to_keep, :]
        return type("Out", (), {"logits": logits})()


def test_loss_uses_only_positions_that_predict_labelled_tokens() -> None:
    ids = list(range(1, 11))
    labels = [IGNORE_INDEX] * 7 + ids[7:]
    model = Recorder()
    batch = ftrain.collate([Sequence_(ids, labels)], pad_id=0)
    loss, tokens = ftrain.batch_loss(model, batch)
    assert tokens == 3
    assert model.kept is not None and model.kept.tolist() == [6, 7, 8]
    logits = model.embed(torch.tensor(ids))[[6, 7, 8]]
    expected = torch.nn.functional.cross_entropy(logits, torch.tensor(ids[7:]))
    assert float(loss.detach()) == pytest.approx(float(expected.detach()), rel=1e-5)
    padded = ftrain.collate([Sequence_(ids, labels), Sequence_([3, 4], [3, 4])], pad_id=0)
    assert padded["attention_mask"].tolist()[1] == [1, 1] + [0] * 8
    assert padded["labels"].tolist()[1][2:] == [IGNORE_INDEX] * 8


def run(exact: list[bool], similarity: float) -> RunResult:
    return RunResult(config={}, results=tuple(
        HoleResult(path="a.py", kind="single", line=i, expected="x", completion="x" if e else "",
                   exact=e, edit_similarity=similarity, parses=True, empty=not e,
                   latency_ms=1.0) for i, e in enumerate(exact)))


def test_install_only_when_better() -> None:
    base = run([True, False, False, True], 0.5)
    assert decide(base, run([True, True, False, True], 0.5), "better")[0]
    assert not decide(base, run([True, False, False, False], 0.9), "better")[0]
    assert decide(base, run([True, False, False, True], 0.6), "better")[0], "tie, closer"
    assert not decide(base, run([True, False, False, True], 0.5), "better")[0], "no gain"
    installed, why = decide(base, run([False] * 4, 0.1), "always")
    assert installed and "install=always" in why
    installed, why = decide(base, run([True] * 4, 1.0), "never")
    assert not installed and "--no-install" in why
    assert "+1/-0" in decide(base, run([True, True, False, True], 0.5), "better")[1]


def test_a_continued_run_must_improve_on_the_installed_adapter_and_not_forget() -> None:
    base = run([True, False, False, True], 0.5)
    tuned = run([True, True, False, True], 0.5)  # better than the base
    fine = Continued("v1", improved=True, holes=40, exact=20, previous_exact=22)
    assert decide(base, tuned, "better", fine) == decide(base, tuned, "better"), "2 is noise"

    installed, why = decide(base, tuned, "better", Continued("v1", improved=False))
    assert not installed and "no validation improved on the installed adapter v1" in why

    forgot = Continued("v1", improved=True, holes=40, exact=19, previous_exact=22)
    assert forgot.forgot()
    installed, why = decide(base, tuned, "better", forgot)
    assert not installed and "forgot what the installed adapter v1 knew (19 vs 22" in why
    # 5 % of 200 holes is 10: losing 10 is noise, 11 is forgetting.
    assert not Continued("v1", True, holes=200, exact=90, previous_exact=100).forgot()
    assert Continued("v1", True, holes=200, exact=89, previous_exact=100).forgot()
    # An adapter that recorded no per-hole results cannot be compared.
    assert not Continued("v1", True, holes=40, exact=0, previous_exact=None).forgot()

    # Not better than the base: that reason comes first; always/never still decide alone.
    assert "not better than the base" in decide(base, base, "better", forgot)[1]
    assert decide(base, base, "always", Continued("v1", improved=False))[0]
    assert not decide(base, tuned, "never", fine)[0]


def report(continued_from: str | None, best_step: int,
           forgetting: dict[str, object] | None) -> dict[str, object]:
    row = {"exact_match": 0.4, "exact_count": 2, "holes": 5, "edit_similarity": 0.5,
           "parse_rate": 1.0, "empty_rate": 0.0, "test_loss": 1.0}
    split = {"files": 1, "lines": 10, "examples": 3, "tokens": 100, "sequences": 1}
    return {
        "repository": "/r", "model": "m", "started": "now", "decision": "kept",
        "data": {"continued_from": continued_from, "example_kinds": {"line": 3},
                 "skipped": {}, "splits": {"train": split, "validation": split, "test": split}},
        "training": {"method": "lora", "steps": 9, "epochs": 0.5, "limited_by": "epochs",
                     "finished": "done", "tokens": 900, "seconds": 60.0,
                     "tokens_per_second": 15.0, "peak_memory_mb": 100.0,
                     "best_step": best_step, "best_validation_loss": 1.0,
                     "initial_validation_loss": 1.2, "trainable_parameters": 1,
                     "total_parameters": 2, "learning_rate": 1e-4, "sequence_tokens": 64,
                     "effective_batch": 4, "history": []},
        "results": {"holes": 5, "hole_set": "h", "test_files": ["t.py"], "wins": 1,
                    "losses": 0, "base": row, "tuned": row},
        "forgetting": forgetting,
    }


def test_the_report_says_when_the_tuned_row_is_the_kept_adapter() -> None:
    from kodama.model.finetune.report import markdown

    kept = markdown(report("v1", 0, {"holes": 27, "base_exact": None, "exact": 17,
                                     "previous_exact": 16}))
    assert 'No validation beat the installed adapter v1: the "tuned" row is that adapter' in kept
    assert "On the 27 holes of the previous run: previous adapter 16, this one 17 exact " \
           "matches (base –)." in kept
    assert "No validation beat" not in markdown(report("v1", 5, None))
    assert "No validation beat" not in markdown(report(None, 0, None))
    unknown = markdown(report("v1", 5, {"holes": 4, "base_exact": 1, "exact": 2,
                                        "previous_exact": None}))
    assert "previous adapter –, this one 2 exact matches (base 1)." in unknown
