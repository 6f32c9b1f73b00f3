"""Which arithmetic a training run computes in, and the accelerate object that runs it.

bfloat16 autocast (weights, LoRA factors and optimizer state stay float32; matmuls run in bfloat16)
trained SmolLM2-135M's rank-32 LoRA at 158 tokens/s on one AVX-512-BF16 core against 93 in float32
(batch 4 x 512, the same machine and minute). A CPU without native bfloat16 emulates it and gains
nothing, so supervised tuning's "auto" takes bfloat16 only where the hardware has it.
"""

from __future__ import annotations

from typing import Any

import torch
from accelerate import Accelerator
from accelerate.state import AcceleratorState

from verifrag.errors import UserError

MIXED_PRECISIONS = ("auto", "no", "bf16", "fp16")


def native_bfloat16() -> bool:
    """Whether training would run on hardware with native bfloat16 matmuls: a CUDA GPU that has them,
    or, without CUDA, a CPU that oneDNN runs bfloat16 on (AVX-512-BF16 or AMX)."""
    if torch.cuda.is_available():
        return torch.cuda.is_bf16_supported()
    return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())


def mixed_precision(choice: str, cpu_bfloat16: bool) -> str:
    """accelerate's mixed precision for a `--mixed-precision` choice. "auto" is bf16 on a GPU that has it
    and, when `cpu_bfloat16`, on a CPU with native bfloat16; else "no". Heads training passes False:
    on a CPU its cached hidden states would no longer be the float32 ones inference reads."""
    if choice not in MIXED_PRECISIONS:
        raise UserError(f"unknown mixed precision {choice!r}; choose from {', '.join(MIXED_PRECISIONS)}")
    if choice != "auto":
        return choice
    if torch.cuda.is_available() or cpu_bfloat16:
        return "bf16" if native_bfloat16() else "no"
    return "no"


def fresh_accelerator(**settings: Any) -> Accelerator:
    """An `Accelerator` with these settings. accelerate keeps one process-wide state and refuses a
    second Accelerator with another mixed precision or device choice, so a process that runs trainers
    in turn (supervised tuning in bfloat16, then heads in float32) starts each from a fresh one; the
    processes and devices (`PartialState`) are kept."""
    AcceleratorState._reset_state(reset_partial_state=False)
    return Accelerator(**settings)
