"""Signal-aware verification of every rollout against its reference, cached to `judged.jsonl`.

Simulation costs a compile and a run per sample, so verdicts are cached by
(task, index, completion digest): a rerun after more rollouts, or after
editing a hand-written sample, simulates only what changed.

Record: {"task_id", "index", "digest", "status", "error", "signals":
{name: {"mismatches", "checked"}}, "seconds"}; `signals` is empty for
whole-sample failures (compile error, refusal, timeout, crash).
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from tqdm import tqdm

from verifrag.simulation.sandbox import Limits
from verifrag.simulation.verification import SignalVerdict, VerificationResult, verify
from verifrag.training.salv.jsonl import append_jsonl, read_jsonl

JUDGED_FILE = "judged.jsonl"


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def result_from_record(record: dict) -> VerificationResult:
    """Rebuild the verification result a cached record stands for."""
    signals = {name: SignalVerdict(v["mismatches"], v["checked"]) for name, v in record["signals"].items()}
    return VerificationResult(record["status"], record.get("error"), signals)


def judge_rollouts(rollouts: list[dict], work: Path, *, vectors: int = 256, limits: Limits = Limits(),
                   progress: bool = True) -> dict[tuple[str, int], dict]:
    """Verdict records for `rollouts`, keyed by (task_id, index); new ones are simulated and cached."""
    path = work / JUDGED_FILE
    cached = {(r["task_id"], r["index"], r["digest"]): r for r in read_jsonl(path)}
    judged: dict[tuple[str, int], dict] = {}
    for rollout in tqdm(rollouts, desc="verifying", unit="sample", disable=not progress):
        key = (rollout["task_id"], rollout["index"], digest(rollout["completion"]))
        record = cached.get(key)
        if record is None:
            started = time.perf_counter()
            result = verify(rollout["reference"], rollout["completion"], vectors=vectors, top=rollout["module"],
                            limits=limits)
            record = {"task_id": key[0], "index": key[1], "digest": key[2], **_summary(result),
                      "seconds": round(time.perf_counter() - started, 4)}
            append_jsonl(path, record)
        judged[key[:2]] = record
    return judged


def _summary(result: VerificationResult) -> dict:
    json_form = result.to_json()
    return {"status": result.status, "error": result.error, "signals": json_form["signals"]}
