"""SALV preference pairs: contrast the signals one rollout got right and another got wrong.

Rule (DESIGN section 6, our exact reading). For rollouts A and B of the same
prompt, the ordered pair (chosen A, rejected B) exists when
C = correct(A) & wrong(B) is not empty, where
- correct(A): outputs with zero mismatches; A must have simulated (status ok);
- wrong(B): outputs with mismatches; when B failed as a whole (refused,
  compile error, timeout, crash) every output of the reference counts as wrong.
Spans (character offsets into each completion) of the contrasted signals C:
- chosen: `select_signal_code(A, correct=C, wrong=wrong(A))` — the code of C
  with enclosing always blocks whole, minus lines that only serve A's wrong
  outputs (those are not rewarded);
- rejected: `select_signal_code(B, correct=C, wrong=correct(B))` — the code of
  C in B, minus lines that only serve B's correct outputs (those are not
  penalised). When B cannot be analysed (it does not parse into a module
  with those outputs), the whole of B is the rejected span.
Both orders of two rollouts can give a pair (on different signals).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from itertools import permutations

from verifrag.simulation.verification import VerificationResult
from verifrag.syntax.signals import SignalExtractionError, SignalSlice, select_signal_code

Span = tuple[int, int]


@dataclass(frozen=True)
class Rollout:
    """One judged sample of a task."""

    index: int
    completion: str
    result: VerificationResult


@dataclass
class ExtractionClock:
    """Time spent in signal extraction, to report its cost beside simulation's."""

    calls: int = 0
    seconds: float = 0.0
    failures: int = 0
    fallbacks: list[str] = field(default_factory=list)


def contrasted_signals(chosen: VerificationResult, rejected: VerificationResult) -> set[str]:
    """Outputs correct in `chosen` and wrong in `rejected` (all outputs are wrong in a failed sample)."""
    if chosen.status != "ok":
        return set()
    rejected_wrong = rejected.wrong_signals() if rejected.status == "ok" else set(chosen.signals)
    return chosen.correct_signals() & rejected_wrong


def _select(text: str, keep: set[str], drop: set[str], module: str, clock: ExtractionClock) -> SignalSlice:
    """`select_signal_code` on the task's module name, or on the text's own top module when it renamed it."""
    started = time.perf_counter()
    clock.calls += 1
    try:
        try:
            return select_signal_code(text, sorted(keep), sorted(drop), module)
        except SignalExtractionError:
            return select_signal_code(text, sorted(keep), sorted(drop), None)
    finally:
        clock.seconds += time.perf_counter() - started


def pairs_for_task(task_id: str, module: str, prompt: str, rollouts: list[Rollout],
                   clock: ExtractionClock | None = None) -> list[dict]:
    """Every ordered preference pair among one task's rollouts (schema in docs/salv.md)."""
    clock = clock or ExtractionClock()
    pairs = []
    for chosen, rejected in permutations(rollouts, 2):
        signals = contrasted_signals(chosen.result, rejected.result)
        if not signals:
            continue
        try:
            chosen_slice = _select(chosen.completion, signals, chosen.result.wrong_signals(), module, clock)
        except SignalExtractionError:
            clock.failures += 1
            continue
        try:
            rejected_spans = _select(rejected.completion, signals, rejected.result.correct_signals(), module,
                                     clock).spans
        except SignalExtractionError:
            rejected_spans = ((0, len(rejected.completion)),)
            clock.fallbacks.append(f"{task_id}:{rejected.index}")
        pairs.append({
            "pair_id": f"{task_id}:{chosen.index}>{rejected.index}",
            "task_id": task_id,
            "prompt": prompt,
            "chosen": chosen.completion,
            "rejected": rejected.completion,
            "chosen_index": chosen.index,
            "rejected_index": rejected.index,
            "signals": sorted(signals),
            "chosen_spans": [list(span) for span in chosen_slice.spans],
            "rejected_spans": [list(span) for span in rejected_spans],
            "rejected_status": rejected.result.status,
        })
    return pairs


def rollout_stats(results: list[VerificationResult], tasks: int, pairs: list[dict], verify_seconds: list[float],
                  clock: ExtractionClock) -> dict:
    """The figures a SALV round reports: compile rate, per-signal correctness, pass rate, pairs, costs."""
    samples = len(results)
    compiled = sum(r.compiled for r in results)
    simulated = [r for r in results if r.status == "ok"]
    verdicts = sum(len(r.signals) for r in simulated)
    correct = sum(len(r.correct_signals()) for r in simulated)
    passed = sum(r.all_correct for r in results)
    return {
        "tasks": tasks,
        "samples": samples,
        "status": dict(Counter(r.status for r in results)),
        "compiled": compiled,
        "compile_rate": compiled / samples if samples else 0.0,
        "simulated": len(simulated),
        "signal_verdicts": verdicts,
        "signals_correct": correct,
        "signal_correct_rate": correct / verdicts if verdicts else 0.0,
        "all_correct": passed,
        "pass_rate": passed / samples if samples else 0.0,
        "samples_with_a_correct_signal": sum(bool(r.correct_signals()) for r in simulated),
        "pairs": len(pairs),
        "pairs_with_failed_rejected": sum(p["rejected_status"] != "ok" for p in pairs),
        "tasks_with_pairs": len({p["task_id"] for p in pairs}),
        "extraction_failures": clock.failures,
        "rejected_whole_sample_fallbacks": len(clock.fallbacks),
        "verify_seconds_per_sample": sum(verify_seconds) / len(verify_seconds) if verify_seconds else 0.0,
        "extraction_calls": clock.calls,
        "extraction_seconds_per_call": clock.seconds / clock.calls if clock.calls else 0.0,
        "extraction_seconds_total": clock.seconds,
    }
