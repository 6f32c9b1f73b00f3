"""The Medusa losses: per-head cross-entropy, head weights, the Medusa-2 lambda warm-up, and the
restricted candidate vocabulary that makes heads-only training affordable on a CPU.

Restricted vocabulary: with a shared 49k x 576 LM head, a full softmax for 4 heads over 100k+ tokens
costs most of a CPU run. Heads trained over `active_ids` (the token ids that occur in the training
corpus) see the same targets; the softmax just leaves out logits of tokens the corpus never uses.
Those logits are still computed at inference, so held-out evaluation always uses the full vocabulary.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from verifrag.training.labels import IGNORE_INDEX


def head_weights(num_heads: int, decay: float = 0.8) -> list[float]:
    """Medusa's weighting: head k (1-based) gets decay**k, so far heads, which are rarely right,
    do not dominate the gradient."""
    return [decay ** k for k in range(1, num_heads + 1)]


def lambda_at(step: int, total_steps: int, peak: float = 0.2) -> float:
    """Medusa-2's head-loss factor: rises as a sine from 0 to `peak` over the run, so random heads
    cannot push large gradients into the base before they have learnt anything."""
    if total_steps <= 0:
        return peak
    return peak * math.sin(math.pi / 2 * min(1.0, step / total_steps))


def active_vocabulary(label_sets: list[torch.Tensor], extra_ids: list[int], vocab_size: int) -> torch.Tensor:
    """Sorted ids that occur as a target in any label tensor, plus `extra_ids`."""
    seen = torch.zeros(vocab_size, dtype=torch.bool)
    for labels in label_sets:
        values = labels[labels != IGNORE_INDEX]
        seen[values] = True
    seen[torch.tensor(extra_ids, dtype=torch.long)] = True
    return torch.nonzero(seen)[:, 0]


def remap_targets(labels: torch.Tensor, active_ids: torch.Tensor, vocab_size: int) -> torch.Tensor:
    """Labels as indices into `active_ids` (ignored labels stay ignored).

    A target outside the active set would have no logit; it is ignored rather than silently
    mapped to another class (`active_vocabulary` over the training labels makes this empty).
    """
    table = torch.full((vocab_size,), IGNORE_INDEX, dtype=torch.long, device=labels.device)
    table[active_ids.to(labels.device)] = torch.arange(active_ids.shape[0], device=labels.device)
    return torch.where(labels == IGNORE_INDEX, labels, table[labels.clamp(min=0)])


def per_head_loss(states: torch.Tensor, projection: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of each head: states (K, N, H), projection (V', H), labels (K, N) -> (K,).

    A head with no kept target in the batch contributes 0 (not NaN) so it cannot poison the sum.
    """
    logits = states @ projection.T
    losses = F.cross_entropy(logits.flatten(0, 1).float(), labels.flatten(), ignore_index=IGNORE_INDEX,
                             reduction="none").view(labels.shape)
    counts = (labels != IGNORE_INDEX).sum(dim=1)
    return losses.sum(dim=1) / counts.clamp(min=1)
