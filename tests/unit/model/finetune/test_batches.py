"""Sharding a fine-tune's steps over processes, and the loss on labelled tokens only: the
chunked loss against the plain one (value and gradients, on the tiny model), with gradient
checkpointing on and off."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from kodama.model.config import FineTuneConfig
from kodama.model.finetune import batches
from kodama.model.finetune.adapter import make_trainable
from kodama.model.finetune.data import IGNORE_INDEX, PackedSequence
from kodama.model.loader import load_model


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


def trainable_tiny(model_dir: Path, **config: Any) -> Any:
    """The tiny model made trainable (float32); LoRA's B matrices drawn at random so that
    every adapter parameter gets a gradient (a fresh adapter's B is zero)."""
    model = make_trainable(load_model(str(model_dir), dtype="float32").model,
                           FineTuneConfig(dropout=0.0, **config))
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "lora_B" in name:
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.05)
    model.train()
    return model


def sample_batch(vocabulary: int) -> dict[str, torch.Tensor]:
    """Two sequences, one padded, with 600 labelled tokens between them: three loss chunks."""
    generator = torch.Generator().manual_seed(0)

    def tokens(n: int) -> list[int]:
        return [int(t) for t in torch.randint(10, vocabulary, (n,), generator=generator)]

    long_ids, short_ids = tokens(380), tokens(300)
    labels = [IGNORE_INDEX] * 40 + long_ids[40:]
    return batches.collate([PackedSequence(long_ids, labels),
                            PackedSequence(short_ids, list(short_ids))], pad_id=0)


def plain_reference(model: Any, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """The textbook loss: every position's logits, cross-entropy on the labelled ones."""
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    return torch.nn.functional.cross_entropy(
        logits[:, :-1].float().reshape(-1, logits.shape[-1]),
        batch["labels"][:, 1:].reshape(-1), ignore_index=IGNORE_INDEX)


def loss_and_gradients(model: Any, batch: dict[str, torch.Tensor], plain: bool = False
                       ) -> tuple[float, dict[str, torch.Tensor]]:
    model.zero_grad(set_to_none=True)
    loss = plain_reference(model, batch) if plain else batches.batch_loss(model, batch)[0]
    loss.backward()  # type: ignore[no-untyped-call]
    grads = {name: p.grad.clone() for name, p in model.named_parameters()
             if p.requires_grad and p.grad is not None}
    return float(loss.detach()), grads


@pytest.mark.parametrize("method", ["lora", "full"])
def test_the_chunked_loss_has_the_plain_loss_value_and_gradients(
        tiny_model_dir: Path, method: str) -> None:
    model = trainable_tiny(tiny_model_dir, method=method)
    batch = sample_batch(model.config.vocab_size)
    assert batches.batch_loss(model, batch)[1] == 340 + 299 > 2 * batches.LOSS_CHUNK_ROWS
    chunked, chunked_grads = loss_and_gradients(model, batch)
    plain, plain_grads = loss_and_gradients(model, batch, plain=True)
    assert chunked == pytest.approx(plain, rel=1e-5)
    assert chunked_grads.keys() == plain_grads.keys() and len(chunked_grads) > 10
    if method == "lora":
        assert all("lora_" in name for name in chunked_grads)  # the vocabulary head is frozen
    else:
        assert any("lm_head" in name for name in chunked_grads)
    for name, grad in chunked_grads.items():
        assert torch.allclose(grad, plain_grads[name], rtol=1e-4, atol=1e-7), name
    with torch.no_grad():
        model.eval()
        assert float(batches.batch_loss(model, batch)[0]) == pytest.approx(plain, rel=1e-5)


def test_no_logits_are_kept_for_the_backward_pass(tiny_model_dir: Path) -> None:
    model = trainable_tiny(tiny_model_dir)
    batch = sample_batch(model.config.vocab_size)
    vocabulary = model.config.vocab_size
    logits: list[tuple[int, ...]] = []

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        if tensor.dim() > 1 and tensor.shape[-1] == vocabulary \
                and tensor.numel() >= batches.LOSS_CHUNK_ROWS * vocabulary:
            logits.append(tuple(tensor.shape))
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        loss, _ = batches.batch_loss(model, batch)
    assert logits == []
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        plain_reference(model, batch)
    assert logits  # the plain loss keeps them: the test would see them
    loss.backward()  # type: ignore[no-untyped-call]


@pytest.mark.parametrize(("method", "every"), [("lora", 1), ("lora", 2), ("top", 1)])
def test_gradient_checkpointing_changes_neither_loss_nor_gradients(
        tiny_model_dir: Path, method: str, every: int) -> None:
    plain = trainable_tiny(tiny_model_dir, method=method, top_layers=1)
    checkpointed = trainable_tiny(tiny_model_dir, method=method, top_layers=1,
                                  gradient_checkpointing=every)
    base = checkpointed.get_base_model() if method == "lora" else checkpointed
    assert base.is_activation_checkpointing and not getattr(base, "_require_grads_hooks", [])
    batch = sample_batch(plain.config.vocab_size)
    loss, grads = loss_and_gradients(plain, batch)
    loss_checkpointed, grads_checkpointed = loss_and_gradients(checkpointed, batch)
    assert loss_checkpointed == pytest.approx(loss, rel=1e-6)
    assert grads.keys() == grads_checkpointed.keys() and grads
    for name, grad in grads.items():
        assert torch.allclose(grad, grads_checkpointed[name], rtol=1e-5, atol=1e-8), name
