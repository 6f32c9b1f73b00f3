"""Judge one sample exactly as VerilogEval does, inside the sandbox.

VerilogEval compiles `iverilog -Wall -Winfloop -Wno-timescale -g2012 -s tb`
over candidate, testbench and reference, runs `vvp`, and counts a pass when
the output has a line `Mismatches: 0 in N samples`.  The candidate is
screened first (the testbench and reference are trusted); every failure gets
one kind: refused, compile, timeout, runtime or mismatch.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from verifrag.evaluation.problems import Problem
from verifrag.simulation.interface import parse_tree
from verifrag.simulation.sandbox import DEFAULT_COMPILE_FLAGS, Limits, simulate
from verifrag.simulation.screening import screen

_PASS_LINE = re.compile(r"^Mismatches: 0 in \d+ samples\s*$", re.MULTILINE)
_MISMATCH_LINE = re.compile(r"^Mismatches: \d+ in \d+ samples\s*$", re.MULTILINE)
FAILURE_KINDS = ("refused", "compile", "timeout", "runtime", "mismatch")


@dataclass(frozen=True)
class Judgement:
    """The verdict on one sample; `kind` is None for a pass, else one of FAILURE_KINDS."""

    task_id: str
    index: int
    digest: str
    passed: bool
    kind: str | None
    syntax_valid: bool
    detail: str = ""

    def to_json(self) -> dict:
        return asdict(self)


def syntax_valid(completion: str) -> bool:
    """True when pyslang parses the completion without syntax errors (no elaboration)."""
    tree = parse_tree(completion, "completion.sv")
    return not any(d.isError() for d in tree.diagnostics)


def judge(problem: Problem, index: int, digest: str, completion: str, limits: Limits) -> Judgement:
    """Screen, compile and simulate `completion` with the problem's testbench and reference."""
    valid = syntax_valid(completion)

    def verdict(kind: str | None, detail: str = "") -> Judgement:
        return Judgement(problem.task_id, index, digest, kind is None, kind, valid, detail[:500])

    refusals = screen(completion, "completion.sv")
    if refusals:
        return verdict("refused", "; ".join(map(str, refusals)))
    run = simulate(
        {
            "completion.sv": completion,
            "test.sv": problem.test_path.read_text(),
            "ref.sv": problem.reference_path.read_text(),
        },
        "tb",
        limits=limits,
        compile_flags=DEFAULT_COMPILE_FLAGS,
    )
    if run.status == "compile_error":
        return verdict("compile", run.compile_log)
    if run.status == "timeout":
        return verdict("timeout", run.details.get("phase", ""))
    if _PASS_LINE.search(run.output):
        return verdict(None)
    match = _MISMATCH_LINE.search(run.output)
    if match:
        return verdict("mismatch", match.group(0))
    return verdict("runtime", f"{run.status}: {run.output[-300:]}")
