"""Weight formats of the lean runtime's linear layers: dense (the model's own tensors, no copy; in
bfloat16 on a CPU, a oneDNN-packed copy) or int8 with one scale per output channel.

A decode step of a small model reads every weight once, so the step is bound by memory traffic; int8
weights read a quarter of float32's bytes.
"""

from __future__ import annotations

from typing import Protocol, Sequence

import torch
import torch.nn.functional as F

WEIGHT_FORMATS = ("dense", "int8")


def packed_bfloat16_available() -> bool:
    """Whether this torch build has oneDNN's bfloat16 linear and the CPU runs it natively."""
    return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())


class Projection(Protocol):
    def __call__(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """One output per part the projection was built from (q, k and v, say)."""


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
        biases = [p.bias.detach() if p.bias is not None else None for p in parts]
        self._bias = None if all(b is None for b in biases) else torch.cat(
            [b if b is not None else torch.zeros(p.out_features, device=weight.device) for b, p in zip(biases, parts)]
        ).to(torch.bfloat16)
        self._sizes = [p.out_features for p in parts]

    def dequantised(self) -> torch.Tensor:
        """The float weight the kernel effectively multiplies by (for tests)."""
        return self._weight.float() * self._scales.float()[:, None]

    def __call__(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        flat = x.reshape(-1, x.shape[-1]).to(torch.bfloat16)
        out = torch._weight_int8pack_mm(flat, self._weight, self._scales)
        if self._bias is not None:
            out = out + self._bias
        out = out.view(*x.shape[:-1], -1).to(x.dtype)
        return (out,) if len(self._sizes) == 1 else tuple(out.split(self._sizes, dim=-1))


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


def projection(parts: Sequence[torch.nn.Linear], weight_format: str) -> Projection:
    dtype, device = parts[0].weight.dtype, parts[0].weight.device
    if weight_format == "dense":
        if dtype == torch.bfloat16 and device.type == "cpu" and packed_bfloat16_available():
            return PackedBFloat16Projection(parts)
        return DenseProjection(parts)
    if weight_format == "int8":
        return Int8Projection(parts)
    raise ValueError(f"unknown weight format {weight_format!r}")
