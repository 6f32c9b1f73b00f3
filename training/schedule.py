"""The learning-rate schedule the Medusa and SFT trainers share."""

from __future__ import annotations

import math


def warmup_cosine(step: int, total: int, warmup_ratio: float) -> float:
    """Linear warm-up over `warmup_ratio` of the steps, then cosine decay to 10 % of the peak: the floor
    keeps short CPU runs, cut by a time budget late in the schedule, still learning."""
    warmup = max(1, int(total * warmup_ratio))
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))
