"""How many threads a CPU decode step runs on, chosen by timing the step on this machine at load.

A one-token step of a small model is bound by memory traffic, which a second thread barely speeds up,
and on a machine whose other cores are busy a second thread waits for a core at every parallel region:
on the shared 2-core CPU a step took 38 ms on one thread and 1.2 s on two (`docs/decoding.md`). On an
idle machine more threads can win. So the engine times a few steps at each candidate count and keeps
the fastest; an explicit `OMP_NUM_THREADS` is the user's choice and is left alone.
"""

from __future__ import annotations

import os
import time
from typing import Callable, Sequence

import torch


def thread_candidates() -> list[int]:
    """1 and torch's default count, or nothing to choose when the user set OMP_NUM_THREADS or there is
    one core."""
    default = torch.get_num_threads()
    if os.environ.get("OMP_NUM_THREADS") or default <= 1:
        return []
    return [1, default]


def pick_threads(step: Callable[[], object], candidates: Sequence[int], rounds: int = 3) -> int:
    """Set torch to the candidate thread count whose `step` was fastest (best of `rounds`) and return it.
    A count whose first (warm-up) step is already 4x slower than the best so far is dropped at once, so
    a busy machine pays for one slow step, not for several."""
    best: dict[int, float] = {}
    for count in candidates:
        torch.set_num_threads(count)
        started = time.perf_counter()
        step()  # also starts this count's thread pool
        if best and time.perf_counter() - started > 4 * min(best.values()):
            continue
        timings = []
        for _ in range(rounds):
            started = time.perf_counter()
            step()
            timings.append(time.perf_counter() - started)
        best[count] = min(timings)
    chosen = min(best, key=best.get)
    torch.set_num_threads(chosen)
    return chosen
