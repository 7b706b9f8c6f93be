"""Packed sequences as model input, and the loss on them: padding, the loss on labelled tokens
only, which sequences each process takes at each step, and mean losses over a split."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from kodama.model.finetune.data import IGNORE_INDEX, PackedSequence


def collate(sequences: Sequence[PackedSequence], pad_id: int) -> dict[str, torch.Tensor]:
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


def mean_loss(model: Any, sequences: Sequence[PackedSequence], pad_id: int, accelerator: Any,
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


def plain_loss(model: Any, sequences: Sequence[PackedSequence], pad_id: int) -> float:
    """Mean per-token loss of a plain (single-process) model; NaN when empty."""
    total = tokens = 0.0
    with torch.no_grad():
        for sequence in sequences:
            loss, count = batch_loss(model, collate([sequence], pad_id))
            total += float(loss) * count
            tokens += count
    return total / tokens if tokens else math.nan
