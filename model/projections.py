"""Weight formats of the lean runtime's linear layers: dense (the model's own tensors, no copy; in
bfloat16 on a CPU, a oneDNN-packed copy), float16 (a half-size copy), int8 with
one scale per output channel, or int4 in groups of 32 with a scale and an offset each (the layout of
the GGUF Q4_1 file the default model comes from).

A one-token decode step of a small model reads every weight once, so it is bound by memory traffic;
float16 weights read half of float32's bytes, int8 a quarter, int4 an eighth. A pass over many rows (a prompt, a
candidate tree) is bound by arithmetic instead, which a CPU without native float16 arithmetic does
fastest in float32: fbgemm's float16 kernel widens the weights to float32 as it multiplies.
"""

from __future__ import annotations

import functools
from typing import Callable, Mapping, Protocol, Sequence

import torch
import torch.nn.functional as F

WEIGHT_FORMATS = ("dense", "float16", "int8", "int4")
# A LoRA adapter's factors per linear layer: (down (rank, in), up already scaled (out, rank)).
LowRank = Mapping[torch.nn.Module, tuple[torch.Tensor, torch.Tensor]]
INT4_GROUP = 32


def packed_bfloat16_available() -> bool:
    """Whether this torch build has oneDNN's bfloat16 linear and the CPU runs it natively."""
    return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())


class Projection(Protocol):
    def __call__(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """One output per part the projection was built from (q, k and v, say)."""


def holds_own_copy(projection: Projection) -> bool:
    """Whether `projection` multiplies by a copy of its own and never reads the parts' weight tensors
    again (so a process that only decodes can free those)."""
    return isinstance(projection, (PackedHalfProjection, Int8Projection, PackedBFloat16Projection))


class DenseProjection:
    """The parts' own weight tensors, one matmul each: fusing them would copy the weights, doubling
    the memory of a model whose transformers object stays loaded as the fallback."""

    def __init__(self, parts: Sequence[torch.nn.Linear]) -> None:
        self._parts = [(p.weight.detach(), None if p.bias is None else p.bias.detach()) for p in parts]

    def __call__(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return tuple(F.linear(x, weight, bias) for weight, bias in self._parts)


class Int8Projection:
    """Weight-only int8: the parts fused into one int8 matrix with one scale per output channel, run by
    `torch._weight_int8pack_mm` on bfloat16 activations. Rows stay independent (a tree pass computes
    each row as a single-token step would). fbgemm's dynamic quantized linear was 2x faster still, but
    quantizing SmolLM2's activations changed the first greedy token on 6 of 6 prompts."""

    def __init__(self, parts: Sequence[torch.nn.Linear]) -> None:
        weight = torch.cat([p.weight.detach().float() for p in parts])
        scales = weight.abs().amax(dim=1).clamp(min=1e-12) / 127.0
        self._weight = torch.round(weight / scales[:, None]).clamp(-127, 127).to(torch.int8).contiguous()
        self._scales = scales.to(torch.bfloat16)
        self._bias = _fused_bias(parts, torch.bfloat16)
        self._sizes = [p.out_features for p in parts]

    def dequantised(self) -> torch.Tensor:
        """The float weight the kernel effectively multiplies by (for tests)."""
        return self._weight.float() * self._scales.float()[:, None]

    def __call__(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        flat = x.reshape(-1, x.shape[-1]).to(torch.bfloat16)
        out = torch._weight_int8pack_mm(flat, self._weight, self._scales)
        if self._bias is not None:
            out = out + self._bias
        return _split(out.view(*x.shape[:-1], -1).to(x.dtype), self._sizes)


class PackedBFloat16Projection:
    """bfloat16 weights reordered once into oneDNN's blocked layout: at one token a step this ran
    about 2x plain `F.linear` in bfloat16 on an AVX-512-BF16 CPU (plain bfloat16 was no faster than
    float32). The reordered copy is what is kept; per-part matmuls keep rows independent."""

    def __init__(self, parts: Sequence[torch.nn.Linear]) -> None:
        self._parts = [
            (torch.ops.mkldnn._reorder_linear_weight(p.weight.detach(), 1), None if p.bias is None else p.bias.detach())
            for p in parts
        ]

    def __call__(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return tuple(torch.ops.mkldnn._linear_pointwise(x, weight, bias, "none", [], "") for weight, bias in self._parts)


@functools.cache
def fbgemm_half_available() -> bool:
    """Whether this torch build and CPU run fbgemm's float16-weight linear (x86 with AVX2 or newer),
    tried once on a 2x2 matrix."""
    try:
        packed = torch.ops.quantized.linear_prepack_fp16(torch.ones(2, 2), None)
        return bool(torch.ops.quantized.linear_dynamic_fp16(torch.ones(1, 2), packed).eq(2).all())
    except (RuntimeError, AttributeError, NotImplementedError):
        return False


class PackedHalfProjection:
    """The parts fused into one float16 matrix in fbgemm's packed layout, multiplied by float32
    activations with float32 sums and outputs (the weights are widened in registers). One kernel serves
    every row count and computes each row as a one-token step would: bit for bit on AVX-512, so a tree
    pass verifies exactly what a step would produce; on AVX2 the kernels for a block's last one or two
    rows (and a one-token step) sum in another order, about 1e-7 of the output's size apart (measured,
    tenth session), so a greedy tree pass can disagree with a step only at a near-exact tie. Measured
    per model pass of SmolLM2-135M's layers on one AVX-512 core: a one-token step 14.5 ms (torch's
    float16 matrix-vector kernel 16.8, float32 35.6) and a 17-row pass 52 ms (float32 108, torch's
    float16 224). The model's float32 tensors are left as they are."""

    def __init__(self, parts: Sequence[torch.nn.Linear]) -> None:
        weight = torch.cat([p.weight.detach().float() for p in parts])
        self._linear = _packed_half_linear(weight, _fused_bias(parts, torch.float32))
        self._sizes = [p.out_features for p in parts]

    def __call__(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return _split(self._linear(x), self._sizes)


def _packed_half_linear(weight: torch.Tensor, bias: torch.Tensor | None) -> Callable[[torch.Tensor], torch.Tensor]:
    """x -> x @ weight.T + bias on fbgemm's float16 kernel, `weight` packed once. The operator's one
    overload is bound here: calling through the overload packet cost about 20 microseconds of Python
    dispatch a call (measured), and a one-token step makes 121 calls."""
    packed = torch.ops.quantized.linear_prepack_fp16(weight.contiguous(), bias)
    linear = torch.ops.quantized.linear_dynamic_fp16.default
    return lambda x: linear(x, packed)


def rows_product(weight: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    """x -> x @ weight.T, on fbgemm's float16 kernel for a float32 weight on a CPU that runs it: a
    Medusa draft over the default heads' 10,859 candidate rows took 1.1 ms there against 5.5 ms in
    float32. Drafts only choose what verification tries, so the rounding cannot change any output."""
    if weight.device.type == "cpu" and weight.dtype == torch.float32 and fbgemm_half_available():
        return _packed_half_linear(weight, None)
    return lambda x: x @ weight.T


class HalfProjection:
    """Where fbgemm is missing (ARM, x86 without AVX2): weights rounded to float16 values, kept
    twice: fused into one float16 matrix for one-token steps (torch's float16 matrix-vector kernel
    reads half the bytes and accumulates in float32), and as the model's own float32 tensors, rounded
    in place, for passes over several rows. Those round their inputs and outputs to float16 as well,
    so both paths compute round16(sum(round16(x) * w)) and differ only in summation order, as
    float32's matrix-vector and matrix-matrix kernels do: a tree pass then verifies exactly what a
    one-token step would have produced."""

    def __init__(self, parts: Sequence[torch.nn.Linear]) -> None:
        with torch.no_grad():
            for part in parts:
                part.weight.copy_(part.weight.half())
                if part.bias is not None:
                    part.bias.copy_(part.bias.half())
        self._rows = DenseProjection(parts)
        self._weight = torch.cat([p.weight.detach().half() for p in parts]).contiguous()
        self._bias = _fused_bias(parts, torch.float16)
        self._sizes = [p.out_features for p in parts]

    def __call__(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        if x.shape[0] == 1:
            return _split(F.linear(x.half(), self._weight, self._bias).float(), self._sizes)
        return tuple(y.half().float() for y in self._rows(x.half().float()))


class Int4Projection:
    """4-bit weights, one scale and offset per 32 inputs of an output row, fused into one packed matrix
    for one-token steps (`torch._weight_int4pack_mm_for_cpu`, bfloat16 activations). The model's own
    float32 tensors are overwritten with the dequantised values, so passes over several rows, which
    use them with inputs and outputs rounded to bfloat16, multiply by the same weights.

    A LoRA adapter (`low_rank`) stays a separate float16 low-rank path: requantising merged weights
    moved them by about 0.8 % and that alone undid the tuning (the default wrote TypeScript again). The
    base's own weights, dequantised from a Q4_1 file, sit on a 4-bit grid this quantiser finds again."""

    def __init__(self, parts: Sequence[torch.nn.Linear], low_rank: LowRank | None = None) -> None:
        factors = [low_rank.get(p) if low_rank else None for p in parts]
        levels, scales, offsets = [], [], []
        with torch.no_grad():
            for part, factor in zip(parts, factors):
                delta = factor[1] @ factor[0] if factor is not None else 0.0
                level, scale, offset = _quantise_int4(part.weight.detach().float() - delta)
                part.weight.copy_(((level - 8) * scale.float()[..., None] + offset.float()[..., None]).flatten(1) + delta)
                if part.bias is not None:
                    part.bias.copy_(part.bias.bfloat16())
                levels.append(level.flatten(1))
                scales.append(scale)
                offsets.append(offset)
        self._sizes = [p.out_features for p in parts]
        rows = sum(self._sizes)
        padding = -rows % 16  # the packing kernel takes rows in multiples of 16
        level = F.pad(torch.cat(levels), (0, 0, 0, padding)).to(torch.int32)
        self._packed = torch._convert_weight_to_int4pack_for_cpu(level, 1)
        self._scales_offsets = torch.stack(
            [F.pad(torch.cat(scales), (0, 0, 0, padding)).T, F.pad(torch.cat(offsets), (0, 0, 0, padding)).T], dim=-1
        ).contiguous()
        self._bias = _fused_bias(parts, torch.bfloat16)
        self._down, self._up = _stacked_factors(factors, self._sizes)
        self._rows = DenseProjection(parts)

    def __call__(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        if x.shape[0] == 1:
            out = torch._weight_int4pack_mm_for_cpu(x.bfloat16(), self._packed, INT4_GROUP, self._scales_offsets)
            out = out[:, : sum(self._sizes)]
            if self._bias is not None:
                out = out + self._bias
            out = out.float()
            if self._down is not None:  # float16 factors: the path reads half the bytes
                out = out + F.linear(F.linear(x.half(), self._down), self._up).float()
            return _split(out, self._sizes)
        return tuple(y.bfloat16().float() for y in self._rows(x.bfloat16().float()))


def _fused_bias(parts: Sequence[torch.nn.Linear], dtype: torch.dtype) -> torch.Tensor | None:
    """The parts' biases end to end (zeros for a part without one), or None when no part has one."""
    if all(p.bias is None for p in parts):
        return None
    return torch.cat([p.bias.detach() if p.bias is not None else p.weight.new_zeros(p.out_features) for p in parts]).to(dtype)


def _split(out: torch.Tensor, sizes: Sequence[int]) -> tuple[torch.Tensor, ...]:
    """A fused projection's output cut back into one tensor per part."""
    return (out,) if len(sizes) == 1 else tuple(out.split(list(sizes), dim=-1))


def _stacked_factors(factors: Sequence[tuple[torch.Tensor, torch.Tensor] | None],
                     sizes: Sequence[int]) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """The parts' LoRA factors in float16 as one down matrix (all ranks stacked) and one block-diagonal
    up matrix, so a fused projection runs its adapters in two small matmuls; (None, None) without any."""
    present = [f for f in factors if f is not None]
    if not present:
        return None, None
    down = torch.cat([f[0] for f in present]).half()
    up = torch.zeros(sum(sizes), down.shape[0], dtype=down.dtype, device=down.device)
    row = column = 0
    for factor, size in zip(factors, sizes):
        if factor is not None:
            rank = factor[0].shape[0]
            up[row : row + size, column : column + rank] = factor[1]
            column += rank
        row += size
    return down, up


def _quantise_int4(weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Levels 0..15 (rows, groups, 32), and per group a bfloat16 scale and the offset at level 8, so
    that a weight is (level - 8) * scale + offset, as the int4 kernel computes it."""
    rows, columns = weight.shape
    if columns % INT4_GROUP:
        raise ValueError(f"int4 weights need inputs in multiples of {INT4_GROUP}, not {columns}")
    groups = weight.view(rows, columns // INT4_GROUP, INT4_GROUP)
    low, high = groups.amin(-1), groups.amax(-1)
    scale = ((high - low) / 15).clamp(min=1e-8).bfloat16()
    offset = (low + 8 * scale.float()).bfloat16()
    level = torch.round((groups - offset.float()[..., None]) / scale.float()[..., None] + 8).clamp(0, 15)
    return level, scale, offset


def projection(parts: Sequence[torch.nn.Linear], weight_format: str, low_rank: LowRank | None = None) -> Projection:
    """The projection for `parts` in `weight_format`; `low_rank` (a LoRA adapter's factors, already
    merged into the weights) matters only to int4, which keeps them apart."""
    dtype, device = parts[0].weight.dtype, parts[0].weight.device
    if weight_format == "dense":
        if dtype == torch.bfloat16 and device.type == "cpu" and packed_bfloat16_available():
            return PackedBFloat16Projection(parts)
        return DenseProjection(parts)
    if weight_format == "float16":
        if dtype != torch.float32:
            raise ValueError("float16 weights run over a float32 model")
        if device.type == "cpu" and fbgemm_half_available():
            return PackedHalfProjection(parts)
        return HalfProjection(parts)
    if weight_format == "int8":
        return Int8Projection(parts)
    if weight_format == "int4":
        if dtype != torch.float32:
            raise ValueError("int4 weights keep a float32 model for passes over several rows")
        return Int4Projection(parts, low_rank)
    raise ValueError(f"unknown weight format {weight_format!r}")
