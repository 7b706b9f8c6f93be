"""Weight-only quantisation of a loaded model's linear layers, for faster decoding on CPU.

Decoding one token reads every weight once, so on CPU its speed is bound by memory bandwidth:
fewer bytes per weight, more tokens per second. ``int8`` keeps one int8 value per weight and
one bf16 scale per output row (symmetric, per channel) and multiplies with bf16 activations —
numerically close enough that greedy completions match (checked by ``kodama eval``), unlike
torch.ao's dynamic int8 quantisation, which quantises activations too and changes the 0.5B
model's output from the first token (DESIGN.md section 9).

Prefill multiplies many tokens at once, where bf16 matrix units beat the int8 kernel, so for
inputs of ``DEQUANT_MIN_ROWS`` rows or more a layer dequantises its weight on the fly and uses
the float GEMM. Only the int8 copy is kept: the model's memory roughly halves. Activations stay
in the model's own dtype (bf16 where the CPU has fast bf16, else fp32).
"""

from __future__ import annotations

from typing import Any, Literal, cast

import torch
from torch import nn

Quantization = Literal["none", "int8"]

DEQUANT_MIN_ROWS = 16
"""Inputs with at least this many rows (tokens) use dequantise + bf16 GEMM."""

QUANTIZE_BLOCK_ROWS = 4096
"""Rows quantised at a time (bounds the float32 working copy)."""


class Int8Linear(nn.Module):
    """A linear layer with int8 weights (per-output-channel scales) and float activations."""

    def __init__(self, linear: nn.Linear) -> None:
        """Quantise ``linear``'s weight; the float weight is not kept.

        Rows are converted in blocks so that the float32 working copy stays small (the
        output head alone is 136 M weights).
        """
        super().__init__()
        weight = linear.weight.detach()
        rows = weight.shape[0]
        qweight = torch.empty(weight.shape, dtype=torch.int8)
        scale = torch.empty(rows, dtype=torch.float32)
        for start in range(0, rows, QUANTIZE_BLOCK_ROWS):
            block = weight[start:start + QUANTIZE_BLOCK_ROWS].float()
            block_scale = (block.abs().amax(dim=1) / 127.0).clamp(min=1e-12)
            scale[start:start + QUANTIZE_BLOCK_ROWS] = block_scale
            qweight[start:start + QUANTIZE_BLOCK_ROWS] = torch.round(
                block / block_scale[:, None]).clamp(-127, 127).to(torch.int8)
        self.in_features = linear.in_features
        self.out_features = linear.out_features
        self.register_buffer("qweight", qweight)
        self.register_buffer("scale", scale.to(torch.bfloat16))
        bias = linear.bias
        # A copy, never a view: the loaded weights may be a memory map of the model file, which
        # stays resident for as long as any tensor points into it.
        self.register_buffer("bias", None if bias is None else bias.detach().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x @ W.T + b`` with the int8 kernel for few rows, dequantised bf16 GEMM otherwise."""
        shape = x.shape
        rows = x.reshape(-1, shape[-1])
        qweight = cast(torch.Tensor, self.qweight)
        scale = cast(torch.Tensor, self.scale).to(rows.dtype)
        bias = cast(torch.Tensor | None, self.bias)
        bias = None if bias is None else bias.to(rows.dtype)
        if rows.shape[0] < DEQUANT_MIN_ROWS:
            out = cast(torch.Tensor, torch.ops.aten._weight_int8pack_mm(rows, qweight, scale))
            if bias is not None:
                out = out + bias
        else:
            weight = qweight.to(rows.dtype) * scale[:, None]
            out = nn.functional.linear(rows, weight, bias)
        return out.reshape(*shape[:-1], self.out_features)


def quantize_model(model: Any, quantization: Quantization) -> int:
    """Replace the model's ``nn.Linear`` layers (lm_head included) in place; how many.

    Layers are converted one at a time, so memory never holds two copies of the model.
    """
    if quantization == "none":
        return 0
    if quantization != "int8":
        raise ValueError(f"unknown quantization {quantization!r} (choose 'none' or 'int8')")
    names = [name for name, module in model.named_modules() if isinstance(module, nn.Linear)]
    for name in names:  # by name, so no list keeps the float layers alive
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, child, Int8Linear(getattr(parent, child)))
    # Everything else (embeddings, norms) gets its own memory, so that the memory map of the
    # model file, if the loader used one, is released with the float weights.
    with torch.no_grad():
        for param in model.parameters():
            param.data = param.data.clone()
    return len(names)
