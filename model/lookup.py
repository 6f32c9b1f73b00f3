"""Prompt lookup: continue the text by copying what followed the last few tokens where they appeared
before. Verilog repeats itself (port names, signal lists, near-identical statements), so the document
is a draft model that costs nothing to run."""

from __future__ import annotations

from typing import Sequence


def lookup_continuation(context: Sequence[int], length: int, max_ngram: int = 3, min_ngram: int = 1) -> list[int]:
    """Up to `length` tokens that followed the latest earlier occurrence of the context's last n tokens,
    trying n = max_ngram down to min_ngram; empty when none of them occurred before."""
    for n in range(min(max_ngram, len(context) - 1), min_ngram - 1, -1):
        tail = list(context[-n:])
        for start in range(len(context) - n - 1, -1, -1):
            if list(context[start : start + n]) == tail:
                return list(context[start + n : start + n + length])
    return []
