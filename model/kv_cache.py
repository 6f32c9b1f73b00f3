"""KV-cache operations the decoders need, on transformers' `DynamicCache` (the fallback runtime) and
on the lean runtime's `StaticKVCache` alike."""

from __future__ import annotations

import torch
from transformers import DynamicCache

from verifrag.model.static_cache import StaticKVCache

Cache = DynamicCache | StaticKVCache


def truncate(cache: Cache, length: int) -> None:
    """Drop entries past `length` (transformers 5's `crop` takes the number of entries to remove)."""
    if isinstance(cache, StaticKVCache):
        cache.truncate(length)
        return
    excess = cache.get_seq_length() - length
    if excess > 0:
        cache.crop(-excess)


def compact(cache: Cache, start: int, keep: torch.Tensor) -> None:
    """Keep, at positions start..start+len(keep)-1, the entries now at `start + keep`; drop the rest.

    After a tree verification pass the cache holds the whole tree; only the accepted path stays, moved
    into contiguous slots so the next step sees an ordinary sequence.
    """
    if isinstance(cache, StaticKVCache):
        cache.compact(start, keep)
        return
    source = start + keep
    for layer in cache.layers:
        length = keep.numel()
        layer.keys[:, :, start : start + length] = layer.keys[:, :, source]
        layer.values[:, :, start : start + length] = layer.values[:, :, source]
    truncate(cache, start + keep.numel())


class PrefixCache:
    """The KV cache of the last prompt, so a prompt sharing its beginning only computes the new part.

    Typing forward in an editor changes only the end of the context; this is what keeps inline
    completion latency flat as the file grows.
    """

    def __init__(self) -> None:
        self._ids: list[int] = []
        self._cache: Cache | None = None

    def take(self, ids: list[int]) -> tuple[Cache | None, int]:
        """A cache holding the longest reusable prefix of `ids`, and that prefix's length.

        At least one token is always left to compute, since the caller needs its logits. The cache is
        handed over (not shared): the caller extends it and gives it back with `store`.
        """
        if self._cache is None:
            return None, 0
        reusable = min(self._shared(ids), len(ids) - 1)
        cache, self._cache, self._ids = self._cache, None, []
        if reusable == 0:
            return None, 0
        truncate(cache, reusable)
        return cache, reusable

    def store(self, ids: list[int], cache: Cache) -> None:
        """Keep `cache` (cropped to `ids`) for the next prompt."""
        truncate(cache, len(ids))
        self._ids, self._cache = list(ids), cache

    @property
    def ids(self) -> list[int]:
        """The prompt whose entries the cache holds."""
        return list(self._ids)

    def rewind(self, ids: list[int]) -> None:
        """Keep only what a cache that had last seen `ids` could still serve: the prefix the cached
        prompt shares with `ids`. Lets a benchmark answer one prompt several ways from one cache state."""
        if self._cache is None:
            return
        common = self._shared(ids)
        truncate(self._cache, common)
        self._ids = list(ids[:common])

    def _shared(self, ids: list[int]) -> int:
        """How many leading tokens `ids` shares with the cached prompt."""
        common = 0
        for a, b in zip(self._ids, ids):
            if a != b:
                break
            common += 1
        return common

    def clear(self) -> None:
        self._ids, self._cache = [], None
