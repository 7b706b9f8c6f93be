"""Weight-only quantisation of a loaded model's linear layers, for faster decoding on CPU.

Decoding one token reads every weight once, so on CPU its speed is bound by memory bandwidth:
fewer bytes per weight, more tokens per second. ``int8`` keeps one int8 value per weight and
one bf16 scale per output row (symmetric, per channel) and multiplies with bf16 activations —
numerically close enough that greedy completions match (checked by ``kodama eval``), unlike
torch.ao's dynamic int8 quantisation, which quantises activations too and changes the 0.5B
model's output from the first token (we measured it on the default model).

The activations are cast to bf16 for the kernel even where the model computes in float32 (CPUs
without bf16 instructions): torch's CPU kernel is about 14 times slower with float32 activations
(one 4864×896 matrix, one row, AVX2: 4.3 ms against 0.31 ms), and the default model's decode
step drops from 270 to 59 ms with greedy output unchanged.

Prefill multiplies many tokens at once, where a float GEMM beats the kernel, so for inputs of
:func:`dequant_min_rows` rows or more a layer dequantises its weight on the fly and uses the
float GEMM. Where the model computes in bf16 the matrix units win from 16 rows; in float32 the
kernel stays ahead up to 64 rows (a 16-row tail prefill of the default model: 472 → 234 ms).
Only the int8 copy is kept: the model's memory roughly halves.

The dequantised weight goes into one scratch buffer per thread and float type, at most
``DEQUANT_BLOCK_ELEMENTS`` weights (larger layers, the output head, go block by block of output
rows). A fresh tensor per layer and call would leave glibc's heap holding tens of freed
megabytes per prefill (its mmap threshold grows with each large free), and the server's peak
memory would wander by hundreds of megabytes from one run to the next (measured: 1.30–1.77 GB
after the same prompts in float32).

``int4`` keeps 4-bit weights in groups of ``INT4_GROUP`` along the input dimension, each group
with a bf16 scale and offset (asymmetric), packed for torch's CPU int4 kernel
(``_weight_int4pack_mm_for_cpu``): half the bytes of int8 per decoded token. Prefill unpacks
the same packed tensor to bf16 (no second copy). The output head stays int8: it is a quarter of
the weights, and the next token is chosen from its logits. Layers whose shapes the kernel cannot
take stay int8 too.
"""

from __future__ import annotations

import functools
import threading
from typing import Any, ClassVar, Literal, cast

import torch
from torch import nn

Quantization = Literal["none", "int8", "int4"]
QUANTIZATIONS: tuple[Quantization, ...] = ("none", "int8", "int4")

DEQUANT_MIN_ROWS = {torch.bfloat16: 16, torch.float32: 64}
"""Inputs with at least this many rows (tokens) use dequantise + float GEMM, per activation
dtype (measured on the default model: see the module docstring)."""

DEQUANT_BLOCK_ELEMENTS = 4864 * 896
"""Weights dequantised at a time (the default model's largest layer but the output head): the
size of the scratch buffer, 17 MB in float32."""

QUANTIZE_BLOCK_ROWS = 4096
"""Rows quantised at a time (bounds the float32 working copy)."""

INT4_GROUP = 32
"""Weights per int4 group (one scale and offset each), along the input dimension."""

INT4_BLOCK_N = 64
"""Output rows the CPU int4 kernel packs together (its layout: :func:`int4_layout_ok`)."""


def dequant_min_rows(dtype: torch.dtype) -> int:
    """From how many rows an input of ``dtype`` goes through dequantise + float GEMM."""
    return DEQUANT_MIN_ROWS.get(dtype, DEQUANT_MIN_ROWS[torch.bfloat16])


_scratch = threading.local()


def scratch(dtype: torch.dtype, shape: tuple[int, int]) -> torch.Tensor:
    """A ``shape`` view of this thread's dequantisation buffer for ``dtype`` (contents undefined;
    valid until the next call in this thread)."""
    buffers: dict[torch.dtype, torch.Tensor] = _scratch.__dict__.setdefault("buffers", {})
    size = shape[0] * shape[1]
    buffer = buffers.get(dtype)
    if buffer is None or buffer.numel() < size:
        # A normal tensor even when first needed under inference mode: an inference tensor
        # could not be written to outside it.
        with torch.inference_mode(False):
            buffer = buffers[dtype] = torch.empty(max(size, DEQUANT_BLOCK_ELEMENTS), dtype=dtype)
    return buffer[:size].view(shape)


def pack_int8(weight: torch.Tensor) -> dict[str, torch.Tensor]:
    """``weight`` (``[out, in]``, any float type) as int8 values and one bf16 scale per row.

    Rows are converted in blocks so that the float32 working copy stays small (the output head
    alone is 136 M weights).
    """
    rows = weight.shape[0]
    qweight = torch.empty(weight.shape, dtype=torch.int8)
    scale = torch.empty(rows, dtype=torch.float32)
    for start in range(0, rows, QUANTIZE_BLOCK_ROWS):
        block = weight[start:start + QUANTIZE_BLOCK_ROWS].float()
        block_scale = (block.abs().amax(dim=1) / 127.0).clamp(min=1e-12)
        scale[start:start + QUANTIZE_BLOCK_ROWS] = block_scale
        qweight[start:start + QUANTIZE_BLOCK_ROWS] = torch.round(
            block / block_scale[:, None]).clamp(-127, 127).to(torch.int8)
    return {"qweight": qweight, "scale": scale.to(torch.bfloat16)}


def pack_int4(weight: torch.Tensor) -> dict[str, torch.Tensor]:
    """``weight`` (``[out, in]``) as int4 groups (scale and offset each), packed for the kernel."""
    rows, cols = weight.shape
    groups = cols // INT4_GROUP
    values = torch.empty((rows, cols), dtype=torch.int32)
    scales = torch.empty((rows, groups), dtype=torch.float32)
    lows = torch.empty((rows, groups), dtype=torch.float32)
    for start in range(0, rows, QUANTIZE_BLOCK_ROWS):
        end = start + QUANTIZE_BLOCK_ROWS
        block = weight[start:end].float().reshape(-1, groups, INT4_GROUP)
        low = block.amin(dim=2, keepdim=True)
        scale = ((block.amax(dim=2, keepdim=True) - low) / 15.0).clamp(min=1e-12)
        values[start:end] = torch.round((block - low) / scale).clamp(0, 15).reshape(
            -1, cols).to(torch.int32)
        scales[start:end] = scale.squeeze(2)
        lows[start:end] = low.squeeze(2)
    # The kernel computes (q - 8) * scale + zero, so zero is the group's value at q = 8.
    zeros = lows + scales * 8
    return {
        "packed": torch.ops.aten._convert_weight_to_int4pack_for_cpu(values, 1),
        "scale_zeros": torch.stack((scales, zeros), dim=2).transpose(0, 1).contiguous().to(
            torch.bfloat16),  # [groups, rows, 2]
    }


def _own_bias(linear: nn.Linear) -> torch.Tensor | None:
    # A copy, never a view: the loaded weights may be a memory map of the model file, which
    # stays resident for as long as any tensor points into it.
    bias = linear.bias
    return None if bias is None else bias.detach().clone()


class _PackedLinear(nn.Module):
    """A linear layer whose weight stays packed: a kernel on the packed weight for inputs of
    fewer than :func:`dequant_min_rows` rows, the weight unpacked to the activations' float type and
    a float GEMM otherwise. Subclasses name their tensors (``BUFFERS``), how a float weight is
    packed (``pack``), the kernel and the unpacking."""

    BUFFERS: ClassVar[tuple[str, ...]]
    in_features: int
    out_features: int

    def __init__(self, bias: torch.Tensor | None, **tensors: torch.Tensor) -> None:
        """A layer from packed tensors (``pack``'s, named as in ``BUFFERS``)."""
        super().__init__()
        for name in self.BUFFERS:
            self.register_buffer(name, tensors[name])
        self.register_buffer("bias", bias)

    @classmethod
    def quantize(cls, linear: nn.Linear) -> _PackedLinear:
        """``linear`` quantised; its float weight is not kept."""
        return cls(_own_bias(linear), **cls.pack(linear.weight.detach()))

    @staticmethod
    def pack(weight: torch.Tensor) -> dict[str, torch.Tensor]:
        """A float weight (``[out, in]``) as the tensors named in ``BUFFERS``."""
        raise NotImplementedError

    def kernel(self, rows: torch.Tensor) -> torch.Tensor:
        """``rows @ W.T`` on the packed weight (few rows)."""
        raise NotImplementedError

    def dequantized(self, dtype: torch.dtype, start: int, end: int,
                    out: torch.Tensor | None = None) -> torch.Tensor:
        """Rows ``start:end`` of the weight as ``dtype`` (``[end - start, in]``), written into
        ``out`` when given."""
        raise NotImplementedError

    block_multiple: ClassVar[int] = 1
    """Output rows per dequantised block are a multiple of this (the packing's row blocks)."""

    def float_gemm(self, rows: torch.Tensor) -> torch.Tensor:
        """``rows @ W.T`` with the weight dequantised block by block into the scratch buffer
        (a fresh tensor where autograd would keep the weight for the backward pass)."""
        step = max(DEQUANT_BLOCK_ELEMENTS // self.in_features // self.block_multiple, 1)
        step *= self.block_multiple
        reuse = not (torch.is_grad_enabled() and rows.requires_grad)
        parts = []
        for start in range(0, self.out_features, step):
            end = min(start + step, self.out_features)
            out = scratch(rows.dtype, (end - start, self.in_features)) if reuse else None
            parts.append(nn.functional.linear(rows, self.dequantized(rows.dtype, start, end, out)))
        return parts[0] if len(parts) == 1 else torch.cat(parts, dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x @ W.T + b``: the kernel for few rows, the dequantised weight's GEMM otherwise."""
        shape = x.shape
        rows = x.reshape(-1, shape[-1])
        if rows.shape[0] < dequant_min_rows(rows.dtype):
            out = self.kernel(rows)
        else:
            out = self.float_gemm(rows)
        bias = cast(torch.Tensor | None, self.bias)
        if bias is not None:
            out = out + bias.to(rows.dtype)
        return out.reshape(*shape[:-1], self.out_features)


class Int8Linear(_PackedLinear):
    """A linear layer with int8 weights (per-output-channel scales) and float activations."""

    BUFFERS = ("qweight", "scale")

    @staticmethod
    def pack(weight: torch.Tensor) -> dict[str, torch.Tensor]:
        """:func:`pack_int8`."""
        return pack_int8(weight)

    def __init__(self, bias: torch.Tensor | None, **tensors: torch.Tensor) -> None:
        """A layer from :func:`pack_int8`'s tensors."""
        super().__init__(bias, **tensors)
        self.out_features, self.in_features = tensors["qweight"].shape

    def kernel(self, rows: torch.Tensor) -> torch.Tensor:
        """torch's int8 weight-only kernel, with bf16 activations (see the module docstring)."""
        scale = cast(torch.Tensor, self.scale).to(torch.bfloat16)
        return cast(torch.Tensor, torch.ops.aten._weight_int8pack_mm(
            rows.to(torch.bfloat16), self.qweight, scale)).to(rows.dtype)

    def dequantized(self, dtype: torch.dtype, start: int, end: int,
                    out: torch.Tensor | None = None) -> torch.Tensor:
        """The int8 values times their row's scale."""
        values = cast(torch.Tensor, self.qweight)[start:end]
        scale = cast(torch.Tensor, self.scale)[start:end, None]
        if out is None:
            return values.to(dtype) * scale.to(dtype)
        return out.copy_(values).mul_(scale)


def _int4_unpack(packed: torch.Tensor, rows: int, cols: int) -> torch.Tensor:
    """The int4 values (0–15, as uint8 ``[rows, cols]``) of a tensor packed for the CPU kernel.

    The kernel packs blocks of 64 output rows: for each input column, 32 bytes whose low nibbles
    are rows 0–31 of the block and high nibbles rows 32–63.
    """
    blocks = packed.reshape(rows // INT4_BLOCK_N, cols, INT4_BLOCK_N // 2)
    values = torch.stack((blocks & 0xF, blocks >> 4), dim=2)  # [blocks, cols, 2, 32]
    return values.reshape(rows // INT4_BLOCK_N, cols, INT4_BLOCK_N).transpose(1, 2).reshape(
        rows, cols)


@functools.cache
def int4_layout_ok() -> bool:
    """Whether this torch build packs int4 weights the way :func:`_int4_unpack` reads them."""
    rows, cols = INT4_BLOCK_N * 2, INT4_GROUP * 4
    values = torch.randint(0, 16, (rows, cols), generator=torch.Generator().manual_seed(0),
                           dtype=torch.int32)
    try:
        packed = torch.ops.aten._convert_weight_to_int4pack_for_cpu(values, 1)
    except (RuntimeError, AttributeError):
        return False
    return bool(torch.equal(_int4_unpack(packed, rows, cols).int(), values))


class Int4Linear(_PackedLinear):
    """A linear layer with int4 weights (groups of ``INT4_GROUP``, scale and offset each)."""

    BUFFERS = ("packed", "scale_zeros")

    @staticmethod
    def pack(weight: torch.Tensor) -> dict[str, torch.Tensor]:
        """:func:`pack_int4`."""
        return pack_int4(weight)

    def __init__(self, bias: torch.Tensor | None, **tensors: torch.Tensor) -> None:
        """A layer from :func:`pack_int4`'s tensors."""
        super().__init__(bias, **tensors)
        groups, self.out_features = tensors["scale_zeros"].shape[:2]
        self.in_features = groups * INT4_GROUP

    def kernel(self, rows: torch.Tensor) -> torch.Tensor:
        """torch's CPU int4 kernel (bf16 activations)."""
        return cast(torch.Tensor, torch.ops.aten._weight_int4pack_mm_for_cpu(
            rows.to(torch.bfloat16), self.packed, INT4_GROUP, self.scale_zeros)).to(rows.dtype)

    block_multiple = INT4_BLOCK_N

    def dequantized(self, dtype: torch.dtype, start: int, end: int,
                    out: torch.Tensor | None = None) -> torch.Tensor:
        """Rows ``start:end`` (whole blocks of ``INT4_BLOCK_N``) unpacked from the int4 copy."""
        rows = end - start
        packed = cast(torch.Tensor, self.packed)[start:end]
        scale_zeros = cast(torch.Tensor, self.scale_zeros)[:, start:end].to(dtype)
        values = _int4_unpack(packed, rows, self.in_features).to(dtype)
        grouped = values.reshape(rows, -1, INT4_GROUP) - 8
        scale = scale_zeros[:, :, 0].transpose(0, 1).unsqueeze(2)
        zero = scale_zeros[:, :, 1].transpose(0, 1).unsqueeze(2)
        if out is None:
            return torch.addcmul(zero, grouped, scale).reshape(rows, self.in_features)
        torch.addcmul(zero, grouped, scale, out=out.view(rows, -1, INT4_GROUP))
        return out


class CompactEmbedding(nn.Module):
    """An embedding table kept in bfloat16 whose rows come out in the model's float type.

    A model computing in float32 (CPUs without bf16 units) whose table holds only bfloat16
    values (every checkpoint stored in bf16, the default model's included) loses nothing by
    keeping the table in bf16: the very same rows, half the memory (272 MB of the default
    model's 1.5 GB).
    """

    def __init__(self, weight: torch.Tensor, dtype: torch.dtype,
                 padding_idx: int | None = None) -> None:
        """``weight`` (bf16, ``[rows, dim]``) looked up into ``dtype`` rows."""
        super().__init__()
        self.num_embeddings, self.embedding_dim = weight.shape
        self.padding_idx = padding_idx
        self.out_dtype = dtype
        self.register_buffer("weight", weight)

    @classmethod
    def of(cls, embedding: nn.Module) -> CompactEmbedding | None:
        """``embedding`` made compact, or None when that would change a value (or it is not a
        float32 ``nn.Embedding``)."""
        if not isinstance(embedding, nn.Embedding) or embedding.weight.dtype != torch.float32:
            return None
        compact = embedding.weight.detach().to(torch.bfloat16)
        if not torch.equal(compact.float(), embedding.weight):
            return None
        return cls(compact, torch.float32, embedding.padding_idx)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """The rows of ``ids``, as the model's float type."""
        weight = cast(torch.Tensor, self.weight)
        return nn.functional.embedding(ids, weight, self.padding_idx).to(self.out_dtype)


def packs_int4(quantization: Quantization, out_features: int, in_features: int,
               head: bool) -> bool:
    """Whether a layer of this shape gets int4 weights under ``quantization`` (else int8)."""
    return (quantization == "int4" and not head and out_features % INT4_BLOCK_N == 0
            and in_features % INT4_GROUP == 0)


PACKED_LAYERS: dict[str, type[_PackedLinear]] = {"int8": Int8Linear, "int4": Int4Linear}
"""The packed layer of each weight format, by name."""


def _packed_layer(linear: nn.Linear, quantization: Quantization, head: bool) -> nn.Module:
    int4 = packs_int4(quantization, linear.out_features, linear.in_features, head)
    return PACKED_LAYERS["int4" if int4 else "int8"].quantize(linear)


def quantize_model(model: Any, quantization: Quantization) -> int:
    """Replace the model's ``nn.Linear`` layers (lm_head included) in place; how many. A float32
    embedding table that holds only bf16 values is kept in bf16 (:class:`CompactEmbedding`).

    Layers are converted one at a time, so memory never holds two copies of the model.
    Raises ValueError for an unknown quantisation, or int4 where torch's int4 kernel is missing.
    """
    if quantization == "none":
        return 0
    if quantization not in QUANTIZATIONS:
        raise ValueError(f"unknown quantization {quantization!r} (choose one of "
                         f"{', '.join(QUANTIZATIONS)})")
    if quantization == "int4" and not int4_layout_ok():
        raise ValueError("int4 needs torch's CPU int4 kernel (_weight_int4pack_mm_for_cpu), "
                         "which this torch build lacks or packs differently; use int8")
    head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    names = [name for name, module in model.named_modules() if isinstance(module, nn.Linear)]
    if not names:  # already packed (a packed copy from the cache): nothing to do
        return 0
    for name in names:  # by name, so no list keeps the float layers alive
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        layer = getattr(parent, child)
        setattr(parent, child, _packed_layer(layer, quantization, layer is head))
        del layer
    compact = CompactEmbedding.of(model.get_input_embeddings())
    if compact is not None:
        model.set_input_embeddings(compact)
    # Everything else (embeddings, norms) gets its own memory, so that the memory map of the
    # model file, if the loader used one, is released with the float weights.
    with torch.no_grad():
        for param in model.parameters():
            param.data = param.data.clone()
    return len(names)
