"""Train/held-out assignment by file, so no module's siblings (or itself) leak across the split.

The decision is a hash of the seed, source and file path: it needs no global view of the corpus, so
the pipeline can stream, and it does not move when other files are added or removed.
"""

from __future__ import annotations

import hashlib

TRAIN = "train"
HELDOUT = "heldout"


def split_of(source: str, file: str, seed: int, heldout_fraction: float) -> str:
    """`heldout` for about `heldout_fraction` of files, `train` for the rest; stable for a given seed."""
    digest = hashlib.sha256(f"{seed}\x1f{source}\x1f{file}".encode()).digest()
    position = int.from_bytes(digest[:8], "big") / 2**64
    return HELDOUT if position < heldout_fraction else TRAIN
