"""Sharding a fine-tune's steps over processes, and the loss on labelled tokens only."""

from __future__ import annotations

import pytest
import torch

from kodama.model.finetune import batches
from kodama.model.finetune.data import IGNORE_INDEX, PackedSequence


def test_processes_share_every_step_without_overlap_and_resume_exactly() -> None:
    count = 37
    seen: list[int] = []
    for micro in range(12):
        per_rank = [batches.batch_indices(count, 5, micro, 2, rank, 3) for rank in range(3)]
        flat = [i for part in per_rank for i in part]
        assert len(set(flat)) == len(flat) or micro * 6 // count != (micro * 6 + 5) // count
        seen += flat
    # The first epoch's 37 sequences all come up before any repeats.
    assert sorted(seen[:count]) == list(range(count))
    indices = batches.batch_indices
    assert indices(count, 5, 7, 2, 1, 3) == indices(count, 5, 7, 2, 1, 3)
    assert indices(count, 6, 0, 8, 0, 1) != indices(count, 5, 0, 8, 0, 1)


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
    batch = batches.collate([PackedSequence(ids, labels)], pad_id=0)
    loss, tokens = batches.batch_loss(model, batch)
    assert tokens == 3
    assert model.kept is not None and model.kept.tolist() == [6, 7, 8]
    logits = model.embed(torch.tensor(ids))[[6, 7, 8]]
    expected = torch.nn.functional.cross_entropy(logits, torch.tensor(ids[7:]))
    assert float(loss.detach()) == pytest.approx(float(expected.detach()), rel=1e-5)
    padded = batches.collate([PackedSequence(ids, labels), PackedSequence([3, 4], [3, 4])],
                             pad_id=0)
    assert padded["attention_mask"].tolist()[1] == [1, 1] + [0] * 8
    assert padded["labels"].tolist()[1][2:] == [IGNORE_INDEX] * 8
