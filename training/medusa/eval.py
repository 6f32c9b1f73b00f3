"""Held-out evaluation of the heads: per-head top-1 accuracy and per-rank hit rates.

`rank_rates[k][r]` is the fraction of head k's held-out targets that are exactly the head's rank-r
token (full vocabulary, so it measures what the decoder will see). That is the estimate
`verifrag.model.tree.build_tree` expects, so it goes into verifrag.json as `head_acceptance` and the
engine builds a candidate tree that fits these heads.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from verifrag.model.heads import MedusaHeads
from verifrag.training.labels import IGNORE_INDEX


@dataclass
class HeadScores:
    hits: torch.Tensor  # (K, top_k) counts of targets found at each rank
    totals: torch.Tensor  # (K,) targets evaluated

    def rank_rates(self) -> list[list[float]]:
        return (self.hits / self.totals.clamp(min=1)[:, None]).tolist()

    def top1(self) -> list[float]:
        return [row[0] for row in self.rank_rates()]

    def topk(self) -> list[float]:
        """Cumulative hit rate within the top `top_k` ranks."""
        return (self.hits.sum(dim=1) / self.totals.clamp(min=1)).tolist()

    def merged(self, other: "HeadScores") -> "HeadScores":
        return HeadScores(self.hits + other.hits, self.totals + other.totals)

    def summary(self) -> dict[str, list[float] | list[int]]:
        return {"top1": [round(v, 4) for v in self.top1()], f"top{self.hits.shape[1]}": [round(v, 4) for v in self.topk()],
                "targets": self.totals.tolist()}


@torch.no_grad()
def score_heads(heads: MedusaHeads, projection: torch.Tensor, hidden: torch.Tensor, labels: torch.Tensor,
                top_k: int = 10, batch_size: int = 512) -> HeadScores:
    """Score `heads` on hidden (N, H) with labels (N, K) against the full `projection` (V, H)."""
    num_heads = heads.num_heads
    hits = torch.zeros(num_heads, top_k, dtype=torch.long)
    totals = torch.zeros(num_heads, dtype=torch.long)
    dtype = projection.dtype
    for start in range(0, hidden.shape[0], batch_size):
        h = hidden[start:start + batch_size].to(projection.device, dtype)
        y = labels[start:start + batch_size].to(projection.device).T  # (K, n)
        top = (heads.head_states(h) @ projection.T).topk(top_k, dim=-1).indices  # (K, n, top_k)
        valid = y != IGNORE_INDEX
        match = (top == y[..., None]) & valid[..., None]
        hits += match.sum(dim=1).cpu()
        totals += valid.sum(dim=1).cpu()
    return HeadScores(hits, totals)
