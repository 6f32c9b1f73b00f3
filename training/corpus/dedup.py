"""Near-duplicate removal with MinHash-LSH over shingles of significant tokens.

Vendored and generated cores repeat modules with small edits (a renamed signal, another parameter
default). Comparing significant tokens (DESIGN section 2) instead of characters makes formatting and
comments irrelevant; 5-token shingles keep short common phrases (`end else begin`) from making
unrelated modules look alike. The index stores only signatures, never module text, so it stays small
on large corpora. The first copy in the pipeline's fixed order is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:  # datasketch (and scipy behind it) loads when deduplication runs, not for --help
    from datasketch import MinHash

DEFAULT_THRESHOLD = 0.85
DEFAULT_NUM_PERM = 128
DEFAULT_SHINGLE = 5


@dataclass(frozen=True)
class DedupConfig:
    threshold: float = DEFAULT_THRESHOLD  # estimated Jaccard similarity at or above which a module is a duplicate
    num_perm: int = DEFAULT_NUM_PERM
    shingle: int = DEFAULT_SHINGLE
    seed: int = 0


def shingles(tokens: Sequence[str], size: int) -> set[bytes]:
    """Distinct `size`-token windows; a module shorter than one window is a single shingle."""
    if len(tokens) <= size:
        return {"\x1f".join(tokens).encode()}
    return {"\x1f".join(tokens[i : i + size]).encode() for i in range(len(tokens) - size + 1)}


class NearDuplicateFilter:
    """Remembers signatures of kept modules and says whether a new one is a near duplicate of any."""

    def __init__(self, config: DedupConfig = DedupConfig()) -> None:
        if not 0.0 < config.threshold <= 1.0:
            raise ValueError("dedup threshold must be in (0, 1]")
        self._config = config
        from datasketch import MinHashLSH

        self._lsh = MinHashLSH(threshold=config.threshold, num_perm=config.num_perm)
        self._count = 0

    def signature(self, tokens: Sequence[str]) -> MinHash:
        # datasketch's default hash (SHA-1, 32 bits) is stable across processes, unlike Python's `hash`.
        from datasketch import MinHash

        minhash = MinHash(num_perm=self._config.num_perm, seed=self._config.seed)
        minhash.update_batch(sorted(shingles(tokens, self._config.shingle)))
        return minhash

    def admit(self, tokens: Sequence[str]) -> bool:
        """True (and remembered) when the module is new; False when a kept module is near-identical."""
        minhash = self.signature(tokens)
        if self._lsh.query(minhash):
            return False
        self._lsh.insert(str(self._count), minhash)
        self._count += 1
        return True
