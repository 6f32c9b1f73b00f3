"""A preallocated KV cache for the lean runtime: one buffer for all layers, written in place.

transformers' `DynamicCache` grows by concatenation, so every decode step copies the whole cache. Here
a step writes its keys and values into the slots after the committed length; a verification pass
writes the whole tree there as scratch, and acceptance moves the accepted path down with an index copy
inside the buffer. The buffer only grows when a prompt needs more room than it has (a rare copy at
prefill time, never per step).
"""

from __future__ import annotations

import torch

_ROUND = 128  # capacity granularity, so prompts of similar length share one buffer size


class StaticKVCache:
    def __init__(self, layers: int, kv_heads: int, head_dim: int, capacity: int, dtype: torch.dtype,
                 device: torch.device) -> None:
        shape = (layers, kv_heads, _rounded(capacity), head_dim)
        self.keys = torch.zeros(shape, dtype=dtype, device=device)
        self.values = torch.zeros(shape, dtype=dtype, device=device)
        self.length = 0
        self._mask = torch.ones((0, shape[2]), dtype=torch.bool, device=device)

    @property
    def capacity(self) -> int:
        return self.keys.shape[2]

    def get_seq_length(self) -> int:
        return self.length

    def reserve(self, needed: int) -> None:
        """Make room for `needed` positions in all; copies the committed entries when it must grow."""
        if needed <= self.capacity:
            return
        size = _rounded(needed)
        for name in ("keys", "values"):
            old = getattr(self, name)
            new = old.new_zeros(old.shape[:2] + (size,) + old.shape[3:])
            new[:, :, : self.length] = old[:, :, : self.length]
            setattr(self, name, new)
        self._mask = torch.ones((self._mask.shape[0], size), dtype=torch.bool, device=self.keys.device)

    def truncate(self, length: int) -> None:
        """Forget entries past `length` (they stay in the buffer as garbage, never read)."""
        self.length = min(self.length, length)

    def compact(self, start: int, keep: torch.Tensor) -> None:
        """Move the entries at `start + keep` to `start..start+len(keep)-1` and drop the rest."""
        count = keep.numel()
        source = start + keep
        self.keys[:, :, start : start + count] = self.keys[:, :, source]
        self.values[:, :, start : start + count] = self.values[:, :, source]
        self.length = start + count

    def tree_mask(self, tree: torch.Tensor, past: int) -> torch.Tensor:
        """A (q, past + q) boolean view in which queries see the whole prefix and, among the new
        tokens, what `tree` allows. Written into a buffer kept with the cache; `release_mask` restores it."""
        q = tree.shape[0]
        if self._mask.shape[0] < q:
            self._mask = torch.ones((q, self.capacity), dtype=torch.bool, device=self.keys.device)
        self._mask[:q, past : past + q] = tree
        return self._mask[:q, : past + q]

    def release_mask(self, q: int, past: int) -> None:
        self._mask[:q, past : past + q] = True


def _rounded(size: int) -> int:
    return max(_ROUND, -(-size // _ROUND) * _ROUND)
