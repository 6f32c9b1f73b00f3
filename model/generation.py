"""Sampling whole modules for evaluation: n completions per specification, in one or more processes.

Sample `index` of a task is seeded with `index`, so any sample can be regenerated alone and a run that
stopped halfway resumes with exactly the samples it would have produced. Several worker processes
each load their own copy of the model: with a small model on a GPU, one Python process mostly waits
on its own kernel launches, so a few of them side by side keep the card busy.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Iterator, Sequence

import torch
from tqdm import tqdm

from verifrag.model.engine import Engine
from verifrag.model.prompting import module_prompt, module_text
from verifrag.model.sampling import DecodeConfig


@dataclass(frozen=True)
class SampleRequest:
    task_id: str
    index: int  # also the sampling seed
    spec: str


@dataclass(frozen=True)
class SampleSettings:
    decoder: str
    temperature: float  # 0: greedy
    max_new_tokens: int


def complete(engine: Engine, request: SampleRequest, settings: SampleSettings) -> str:
    """One whole module for `request.spec`."""
    prompt, start = module_prompt(request.spec, engine.lm.tokenizer)
    config = DecodeConfig(
        max_new_tokens=settings.max_new_tokens,
        sampling=settings.temperature > 0,
        temperature=settings.temperature if settings.temperature > 0 else 1.0,
        seed=request.index,
    )
    return module_text(start, engine.generate(prompt, settings.decoder, config).text)


def generate_samples(
    requests: Sequence[SampleRequest],
    settings: SampleSettings,
    *,
    checkpoint: str | None,
    dtype: str = "auto",
    workers: int = 1,
    progress: bool = True,
) -> Iterator[tuple[SampleRequest, str]]:
    """Yield (request, completion) as each sample finishes; with several workers, not in request order."""
    if not requests:
        return
    bar = tqdm(total=len(requests), desc="generating", unit="sample", disable=not progress)
    with bar:
        if workers <= 1:
            engine = Engine.load(checkpoint, dtype=dtype)
            for request in requests:
                yield request, complete(engine, request, settings)
                bar.update()
            return
        threads = max(1, (os.cpu_count() or 1) // workers)
        with ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),  # CUDA cannot be used in a forked child
            initializer=_load_worker_engine,
            initargs=(checkpoint, dtype, threads),
        ) as pool:
            futures = {pool.submit(_worker_complete, request, settings): request for request in requests}
            for future in as_completed(futures):
                yield futures[future], future.result()
                bar.update()


_worker_engine: Engine | Exception | None = None


def _load_worker_engine(checkpoint: str | None, dtype: str, threads: int) -> None:
    """Load the worker's model; a failure is kept and raised with the first request, so the parent
    sees the real error (a bad checkpoint, say) instead of a broken pool."""
    global _worker_engine
    torch.set_num_threads(threads)
    try:
        _worker_engine = Engine.load(checkpoint, dtype=dtype)
    except Exception as exc:  # noqa: BLE001 - re-raised in _worker_complete
        _worker_engine = exc


def _worker_complete(request: SampleRequest, settings: SampleSettings) -> str:
    if isinstance(_worker_engine, Exception):
        raise _worker_engine
    assert _worker_engine is not None, "the pool initializer loads the engine"
    return complete(_worker_engine, request, settings)
