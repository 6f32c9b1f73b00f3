"""Which arithmetic a training run computes in.

bfloat16 autocast (weights, LoRA factors and optimizer state stay float32; matmuls run in bfloat16)
trained SmolLM2-135M's rank-32 LoRA at 158 tokens/s on one AVX-512-BF16 core against 93 in float32
(batch 4 x 512, the same machine and minute). A CPU without native bfloat16 emulates it and gains
nothing, so "auto" takes bfloat16 only where the hardware has it.
"""

from __future__ import annotations

import torch

from verifrag.errors import UserError

PRECISIONS = ("auto", "fp32", "bf16")


def native_bfloat16() -> bool:
    """Whether training would run on hardware with native bfloat16 matmuls: a CUDA GPU that has them,
    or, without CUDA, a CPU that oneDNN runs bfloat16 on (AVX-512-BF16 or AMX)."""
    if torch.cuda.is_available():
        return torch.cuda.is_bf16_supported()
    return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())


def training_precision(choice: str) -> str:
    """"fp32" or "bf16" for a `--precision` choice."""
    if choice not in PRECISIONS:
        raise UserError(f"unknown precision {choice!r}; choose from {', '.join(PRECISIONS)}")
    if choice == "auto":
        return "bf16" if native_bfloat16() else "fp32"
    return choice
