"""The pairs stage: judge the cached rollouts, build preference pairs, write pairs and their stats.

Files in the work folder: `rollouts.jsonl` (input), `judged.jsonl` (verdict
cache), `pairs.jsonl` and `pairs.stats.json` (rebuilt whole each time).
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from verifrag.errors import UserError
from verifrag.simulation.sandbox import Limits
from verifrag.training.salv.judge import judge_rollouts, result_from_record
from verifrag.training.salv.jsonl import read_jsonl, write_jsonl
from verifrag.training.salv.pairs import ExtractionClock, Rollout, pairs_for_task, rollout_stats
from verifrag.training.salv.rollouts import ROLLOUTS_FILE

PAIRS_FILE = "pairs.jsonl"
STATS_FILE = "pairs.stats.json"


def pairs_stage(work: Path, *, vectors: int = 256, limits: Limits = Limits(), progress: bool = True) -> dict:
    """Verify every rollout in `work`, write `pairs.jsonl` and `pairs.stats.json`; returns the stats."""
    rollouts = list(read_jsonl(work / ROLLOUTS_FILE))
    if not rollouts:
        raise UserError(f"no rollouts in {work / ROLLOUTS_FILE}; run --stage rollouts first")
    judged = judge_rollouts(rollouts, work, vectors=vectors, limits=limits, progress=progress)
    by_task: dict[str, list[dict]] = defaultdict(list)
    for rollout in rollouts:
        by_task[rollout["task_id"]].append(rollout)
    clock = ExtractionClock()
    pairs: list[dict] = []
    results = []
    for task_id, items in by_task.items():
        samples = [Rollout(r["index"], r["completion"], result_from_record(judged[(task_id, r["index"])]))
                   for r in items]
        results.extend(sample.result for sample in samples)
        pairs.extend(pairs_for_task(task_id, items[0]["module"], items[0]["prompt"], samples, clock))
    write_jsonl(work / PAIRS_FILE, pairs)
    seconds = [judged[(r["task_id"], r["index"])]["seconds"] for r in rollouts]
    stats = rollout_stats(results, len(by_task), pairs, seconds, clock)
    stats["sampling_seconds_per_sample"] = sum(r.get("seconds", 0.0) for r in rollouts) / len(rollouts)
    (work / STATS_FILE).write_text(json.dumps(stats, indent=2) + "\n")
    return stats
