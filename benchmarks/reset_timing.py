"""Does a model put the reset where the specification says? Counted on VerilogEval-style samples.

A problem whose text says "asynchronous" wants the reset in the event control (`always @(posedge clk or
posedge areset)`); one that says "synchronous" (and not "asynchronous") wants it out
(`always @(posedge clk)`). A module is counted as asynchronous when some `always @(...)` lists two or
more edges, and as waiting for the wrong edge when it lists the rising edge of an active-low reset (a
name ending in `n`, `_n` or `_ni`, such as `resetn`). Only the first sample of each problem is read.

    python benchmarks/reset_timing.py SAMPLES.jsonl [SAMPLES.jsonl ...] --problems DIR
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from verifrag.evaluation.samples import read_samples

TWO_EDGES = re.compile(r"always\s*@\s*\(\s*(?:pos|neg)edge\s+[\w.\[\]]+\s*(?:or|,)\s*(?:pos|neg)edge\b")
RISING_ACTIVE_LOW = re.compile(r"always\s*@\s*\([^)]*\bposedge\s+\w*(?:n|_ni)\s*\)")


def spec_timing(text: str) -> str | None:
    if re.search(r"\basynchronous", text, re.I):
        return "asynchronous"
    if re.search(r"\bsynchronous", text, re.I):
        return "synchronous"
    return None


def module_timing(module: str) -> str:
    return "asynchronous" if TWO_EDGES.search(module) else "synchronous"


def first_samples(path: Path) -> dict[str, str]:
    samples: dict[str, str] = {}
    for task_id, completion in read_samples(path):
        samples.setdefault(task_id, completion)
    return samples


def passed(path: Path) -> set[str]:
    """Problems a result file (`verifrag eval --json` output beside the samples) counts as solved."""
    report = path.with_name(path.name.replace(".samples.jsonl", ".json"))
    if not report.is_file():
        return set()
    return {task for task, row in json.loads(report.read_text())["per_problem"].items() if row["correct"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("samples", nargs="+", type=Path)
    parser.add_argument("--problems", type=Path, required=True, help="folder of ProbNNN_*_prompt.txt files")
    args = parser.parse_args()
    print("| samples | synchronous specs: reset left out | asynchronous specs: reset listed | solved among them "
          "| modules waiting for an active-low reset's rising edge |")
    print("| --- | --- | --- | --- | --- |")
    for path in args.samples:
        samples, solved = first_samples(path), passed(path)
        right = {"synchronous": 0, "asynchronous": 0}
        total = dict(right)
        wins = 0
        rising = sum(bool(RISING_ACTIVE_LOW.search(module)) for module in samples.values())
        for task, module in samples.items():
            wanted = spec_timing((args.problems / f"{task}_prompt.txt").read_text(encoding="utf-8"))
            if wanted is None:
                continue
            total[wanted] += 1
            right[wanted] += module_timing(module) == wanted
            wins += task in solved
        print(f"| {path.name} | {right['synchronous']}/{total['synchronous']} | "
              f"{right['asynchronous']}/{total['asynchronous']} | {wins}/{sum(total.values())} | {rising} |")


if __name__ == "__main__":
    main()
