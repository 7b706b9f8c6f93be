"""Packed sequences as model input, and the loss on them: padding, the loss on labelled tokens
only (the output layer applied in chunks of positions, its logits recomputed in the backward
pass), which sequences each process takes at each step, and mean losses over a split."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch.utils.checkpoint import checkpoint

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


LOSS_CHUNK_ROWS = 256
"""Positions projected onto the vocabulary at once. A chunk's logits (256 × 151,936 in float32:
156 MB) exist only while its loss is computed, in the forward pass and again in the backward;
a whole 512-token sequence's (311 MB, about 1 GB with their copies and gradient) would be kept
for the backward pass."""


def _causal_lm(model: Any) -> Any:
    """The Hugging Face causal LM inside ``model``: under a DDP wrapper (``.module``) and a peft
    wrapper (``get_base_model``)."""
    inner = model
    while isinstance(getattr(inner, "module", None), torch.nn.Module):
        inner = inner.module
    base = getattr(inner, "get_base_model", None)
    return base() if callable(base) else inner


def _head_and_decoder(model: Any) -> tuple[Any, Any] | None:
    """The output layer and the decoder (final norm included) of ``model``; None for what the
    chunked loss cannot split (a model without them, sharded FSDP weights): it then takes the
    plain path."""
    if "FSDP" in type(model).__name__ or "FullySharded" in type(model).__name__:
        return None
    lm = _causal_lm(model)
    try:
        head, decoder = lm.get_output_embeddings(), lm.get_decoder()
    except (AttributeError, NotImplementedError):
        return None
    if not isinstance(head, torch.nn.Module) or not isinstance(decoder, torch.nn.Module) \
            or decoder is lm:
        return None
    return head, decoder


def _final_hidden(model: Any, decoder: torch.nn.Module,
                  batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """The decoder's last hidden states (batch × positions × width) from a forward pass of
    the whole ``model`` (through its wrappers, which DDP's gradient sync and accelerate's
    autocast need) that projects no position onto the vocabulary."""
    captured: list[torch.Tensor] = []
    handle = decoder.register_forward_hook(lambda _module, _args, out: captured.append(out[0]))
    try:
        model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
              logits_to_keep=torch.zeros_like(batch["input_ids"], dtype=torch.bool),
              use_cache=False)
    finally:
        handle.remove()
    return captured[-1]


def _summed_loss(head: torch.nn.Module, rows: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Summed cross-entropy of ``rows``' logits (in float32) against ``targets``."""
    logits = head(rows).float()
    return torch.nn.functional.cross_entropy(logits, targets, reduction="sum")


def chunked_loss(head: torch.nn.Module, rows: torch.Tensor, targets: torch.Tensor,
                 chunk: int = LOSS_CHUNK_ROWS) -> torch.Tensor:
    """Mean cross-entropy of the hidden states ``rows`` (positions × width) against
    ``targets``, :data:`LOSS_CHUNK_ROWS` positions at a time: while gradients are recorded each
    chunk's logits are recomputed in the backward pass instead of kept."""
    total = rows.new_zeros((), dtype=torch.float32)
    for start in range(0, rows.shape[0], chunk):
        part, wanted = rows[start:start + chunk], targets[start:start + chunk]
        if torch.is_grad_enabled():
            total = total + checkpoint(_summed_loss, head, part, wanted, use_reentrant=False)
        else:
            total = total + _summed_loss(head, part, wanted)
    return total / max(1, rows.shape[0])


def _plain_loss(model: Any, batch: dict[str, torch.Tensor], targets: torch.Tensor
                ) -> torch.Tensor:
    """The loss from the model's own logits, for the positions that predict a labelled token
    of any row (models :func:`_head_and_decoder` cannot split)."""
    keep = (targets != IGNORE_INDEX).any(dim=0).nonzero().flatten()
    out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                logits_to_keep=keep)
    chosen = targets[:, keep]
    return torch.nn.functional.cross_entropy(
        out.logits.float().reshape(-1, out.logits.shape[-1]), chosen.reshape(-1),
        ignore_index=IGNORE_INDEX)


def batch_loss(model: Any, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, int]:
    """Mean cross-entropy over the tokens that carry loss, and how many there are.

    The decoder runs on the whole batch; only the positions that predict a labelled token go
    through the output layer (a FIM example has a few dozen of them among hundreds), in chunks
    (:func:`chunked_loss`): the logits over the 150k-word vocabulary never exist for more than
    :data:`LOSS_CHUNK_ROWS` positions at once.
    """
    targets = batch["labels"][:, 1:]
    wanted = targets != IGNORE_INDEX
    count = int(wanted.sum())
    if count == 0:
        zero = sum(p.sum() for p in model.parameters() if p.requires_grad) * 0.0
        return zero, 0
    parts = _head_and_decoder(model)
    if parts is None:
        return _plain_loss(model, batch, targets), count
    head, decoder = parts
    hidden = _final_hidden(model, decoder, batch)
    return chunked_loss(head, hidden[:, :-1][wanted], targets[wanted]), count


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
