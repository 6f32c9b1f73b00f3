"""Weight formats of the lean runtime's linear layers: dense (the model's own tensors, no copy) or
weight-only int8 with one scale per output channel.

A decode step of a small model reads every weight once, so the step is bound by memory traffic; int8
weights read a quarter of float32's bytes. Activations stay in the model's dtype.
"""

from __future__ import annotations

from typing import Protocol, Sequence

import torch
import torch.nn.functional as F

WEIGHT_FORMATS = ("dense", "int8")


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
    """The parts fused into one int8 matrix (a single kernel call) with per-output-channel scales."""

    def __init__(self, parts: Sequence[torch.nn.Linear], activation_dtype: torch.dtype) -> None:
        weight = torch.cat([p.weight.detach().float() for p in parts])
        scales = weight.abs().amax(dim=1).clamp(min=1e-12) / 127.0
        self._weight = torch.round(weight / scales[:, None]).clamp(-127, 127).to(torch.int8).contiguous()
        self._scales = scales.to(activation_dtype)
        biases = [p.bias.detach() if p.bias is not None else None for p in parts]
        self._bias = (
            None if all(b is None for b in biases)
            else torch.cat([b if b is not None else torch.zeros(p.out_features, dtype=activation_dtype)
                            for b, p in zip(biases, parts)]).to(activation_dtype)
        )
        self._sizes = [p.out_features for p in parts]

    def __call__(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        flat = x.reshape(-1, x.shape[-1])
        out = torch._weight_int8pack_mm(flat, self._weight, self._scales)
        if self._bias is not None:
            out = out + self._bias
        out = out.view(*x.shape[:-1], out.shape[-1])
        return (out,) if len(self._sizes) == 1 else tuple(out.split(self._sizes, dim=-1))


def projection(parts: Sequence[torch.nn.Linear], weight_format: str, activation_dtype: torch.dtype) -> Projection:
    if weight_format == "dense":
        return DenseProjection(parts)
    if weight_format == "int8":
        return Int8Projection(parts, activation_dtype)
    raise ValueError(f"unknown weight format {weight_format!r}")
