"""Judge many samples in parallel worker processes and summarise them as pass@k.

Workers are processes, not threads: each sample's simulation is started with
a `preexec_fn` (resource limits), which is only safe in a single-threaded
parent.  The isolation is probed once here, before the workers fork, so they
inherit the answer and a missing sandbox is reported once, not per worker.
"""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from verifrag.evaluation.judge import Judgement, judge
from verifrag.evaluation.passk import pass_at_k
from verifrag.evaluation.problems import Problem, simulator_limited
from verifrag.evaluation.samples import cache_key, digest, read_cache
from verifrag.simulation import isolation
from verifrag.simulation.sandbox import Limits

# A sample is judged in about a second; below this many there is nothing long enough to need a bar.
PROGRESS_MIN_SAMPLES = 20


@dataclass
class EvaluationReport:
    """Per-problem judgements and the aggregate numbers `verifrag eval --json` prints."""

    ks: tuple[int, ...]
    judgements: dict[str, list[Judgement]]
    simulator_limited: frozenset[str]
    unknown_tasks: set[str] = field(default_factory=set)

    def _pass_at(self, task_ids: Iterable[str]) -> dict[str, float]:
        result = {}
        for k in self.ks:
            values = [
                pass_at_k(len(js), sum(j.passed for j in js), k)
                for t in task_ids
                if len(js := self.judgements[t]) >= k
            ]
            if values:
                result[str(k)] = sum(values) / len(values)
        return result

    def to_json(self) -> dict:
        everything = [j for js in self.judgements.values() for j in js]
        per_problem = {}
        for task_id, js in sorted(self.judgements.items()):
            per_problem[task_id] = {
                "n": len(js),
                "correct": sum(j.passed for j in js),
                "failures": dict(Counter(j.kind for j in js if not j.passed)),
                "simulator_limited": task_id in self.simulator_limited,
            }
        model_tasks = [t for t in self.judgements if t not in self.simulator_limited]
        return {
            "problems": len(self.judgements),
            "samples": len(everything),
            "pass_at": self._pass_at(self.judgements),
            "pass_at_excluding_simulator_limited": self._pass_at(model_tasks),
            "syntax_valid": sum(j.syntax_valid for j in everything) / len(everything) if everything else 0.0,
            "failure_kinds": dict(Counter(j.kind for j in everything if not j.passed)),
            "simulator_limited": sorted(self.simulator_limited & self.judgements.keys()),
            "unknown_tasks": sorted(self.unknown_tasks),
            "per_problem": per_problem,
        }


def evaluate(
    problems: dict[str, Problem],
    samples: Iterable[tuple[str, str]],
    *,
    ks: tuple[int, ...] = (1,),
    workers: int | None = None,
    cache_path: Path | None = None,
    limits: Limits = Limits(),
    progress: bool = False,
) -> EvaluationReport:
    """Judge every (task_id, completion) sample, reusing and extending the cache at `cache_path`."""
    isolation.mode(limits.isolate)
    cached = read_cache(cache_path)
    judgements: dict[str, list[Judgement]] = defaultdict(list)
    unknown: set[str] = set()
    seen: Counter[str] = Counter()
    todo = []
    for task_id, completion in samples:
        if task_id not in problems:
            unknown.add(task_id)
            continue
        index = seen[task_id]
        seen[task_id] += 1
        text_digest = digest(completion)
        record = cached.get(cache_key(task_id, index, text_digest))
        if record is not None:
            judgements[task_id].append(Judgement(**record))
        else:
            todo.append((problems[task_id], index, text_digest, completion))
    cache = open(cache_path, "a", encoding="utf-8") if cache_path is not None else None
    try:
        with ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
            futures = [pool.submit(judge, *job, limits) for job in todo]
            finished = as_completed(futures)
            if progress and len(futures) >= PROGRESS_MIN_SAMPLES:
                from tqdm import tqdm

                finished = tqdm(finished, total=len(futures), desc="judging", unit="sample")
            for future in finished:
                judgement = future.result()
                judgements[judgement.task_id].append(judgement)
                if cache is not None:
                    cache.write(json.dumps(judgement.to_json()) + "\n")
                    cache.flush()
    finally:
        if cache is not None:
            cache.close()
    for js in judgements.values():
        js.sort(key=lambda j: j.index)
    return EvaluationReport(ks, dict(judgements), simulator_limited(problems), unknown)
