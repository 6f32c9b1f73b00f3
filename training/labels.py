"""Targets for Medusa heads, with the syntax-enriched ([IGNORE]) masking of DESIGN section 2.

Positions: the base model's hidden state at position t predicts token t+1; head k (0-based) at t
predicts token t+k+2, i.e. "k+1 tokens past the base's next token". `boundary[i]` says whether the
text up to the end of token i ends on a fragment boundary (see `verifrag.syntax.fragments`).

Label modes (the ablation switch `--labels`):
- `plain`: every target that exists is trained (vanilla Medusa).
- `fragment`: head k's target at t is ignored (-100) when the text through that target would end
  inside an incomplete fragment, i.e. when `boundary[t+k+2]` is false. Every head gets the same rule.
- `progressive` (default): fragment snapping at inference keeps a drafted token only if the draft
  reaches a boundary at that token or at a later drafted token. So head k's target is kept when some
  token among t+k+2 .. t+K+1 (K = number of heads) ends on a boundary. The window shrinks as k grows:
  the first head is masked least, the last head is masked exactly like `fragment`. A draft that
  cannot reach a boundary within the heads' reach would be thrown away by snapping, so training a
  head on it only spends capacity on tokens that are never used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:  # torch loads where labels are computed, so `verifrag train --help` stays instant
    import torch

IGNORE_INDEX = -100
LABEL_MODES = ("plain", "fragment", "progressive")


def head_labels(input_ids: Sequence[int] | torch.Tensor, boundary: Sequence[bool] | torch.Tensor,
                num_heads: int, mode: str = "progressive") -> torch.Tensor:
    """Targets of every head for one whole document: a (num_heads, T) long tensor, -100 = ignored.

    Computed over the whole document before it is cut into training windows, so a head near a
    window's end still gets its target from the following text.
    """
    if mode not in LABEL_MODES:
        raise ValueError(f"unknown label mode {mode!r}; choose from {', '.join(LABEL_MODES)}")
    import torch

    ids = torch.as_tensor(input_ids, dtype=torch.long)
    flags = torch.as_tensor(boundary, dtype=torch.bool)
    if ids.shape != flags.shape:
        raise ValueError("input_ids and boundary flags differ in length")
    length = ids.shape[0]
    labels = torch.full((num_heads, length), IGNORE_INDEX, dtype=torch.long)
    next_boundary = _next_boundary(flags)
    for k in range(num_heads):
        offset = k + 2
        if offset >= length:
            continue
        targets = torch.arange(length - offset) + offset
        keep = torch.ones_like(targets, dtype=torch.bool)
        if mode == "fragment":
            keep = flags[targets]
        elif mode == "progressive":
            keep = next_boundary[targets] <= targets - offset + num_heads + 1
        labels[k, : length - offset] = torch.where(keep, ids[targets], IGNORE_INDEX)
    return labels


def _next_boundary(flags: torch.Tensor) -> torch.Tensor:
    """For each index i, the smallest j >= i with flags[j] true (len(flags) when there is none)."""
    import torch

    length = flags.shape[0]
    index = torch.where(flags, torch.arange(length), torch.full((length,), length))
    return index.flip(0).cummin(0).values.flip(0)
