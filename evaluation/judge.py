"""Judge one sample as VerilogEval does, inside the sandbox, with a verdict the sample cannot forge.

VerilogEval compiles `iverilog -Wall -Winfloop -Wno-timescale -g2012 -s tb`
over candidate, testbench and reference, runs `vvp`, and counts a pass when
the output has a line `Mismatches: 0 in N samples`.  A candidate can print
that line itself, so the testbench's format string is rewritten at run time
to start with a secret nonce (see `simulation.nonce`), and only the
nonce-marked line is read; N must be positive.  The candidate is screened
first and compiled as its preprocessed text (see `simulation.screening`;
the testbench and reference are trusted).  Every failure gets one kind:
refused, compile, timeout, runtime or mismatch.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from verifrag.evaluation.problems import Problem
from verifrag.simulation.interface import parse_tree
from verifrag.simulation.nonce import marked_lines, new_nonce
from verifrag.simulation.sandbox import DEFAULT_COMPILE_FLAGS, Limits, simulate
from verifrag.simulation.screening import screen_source

_RESULT_FORMAT = '"Mismatches: '
_RESULT_LINE = re.compile(r"Mismatches: (\d+) in (\d+) samples")
FAILURE_KINDS = ("refused", "compile", "timeout", "runtime", "mismatch")


class ResultFormatError(ValueError):
    """A problem's testbench does not print VerilogEval's result line exactly once."""


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


def mark_testbench(test: str, nonce: str) -> str:
    """`test` with its `$display("Mismatches: ...` format string starting with `nonce`."""
    if test.count(_RESULT_FORMAT) != 1:
        raise ResultFormatError(f"expected one {_RESULT_FORMAT}...\" format string in the testbench, "
                             f"found {test.count(_RESULT_FORMAT)}")
    return test.replace(_RESULT_FORMAT, f'"{nonce} Mismatches: ')


def judge(problem: Problem, index: int, digest: str, completion: str, limits: Limits) -> Judgement:
    """Screen, compile and simulate `completion` with the problem's testbench and reference."""
    valid = syntax_valid(completion)

    def verdict(kind: str | None, detail: str = "") -> Judgement:
        return Judgement(problem.task_id, index, digest, kind is None, kind, valid, detail[:500])

    screened = screen_source(completion, limits, "completion.sv")
    if screened.refusals:
        return verdict("refused", screened.refused_message)
    if screened.text is None:
        return verdict("compile", screened.error or "")
    nonce = new_nonce()
    run = simulate(
        {
            "completion.sv": screened.text,
            "test.sv": mark_testbench(problem.test_path.read_text(), nonce),
            "ref.sv": problem.reference_path.read_text(),
        },
        "tb",
        limits=limits,
        compile_flags=DEFAULT_COMPILE_FLAGS,
    )
    if run.status == "compile_error":
        return verdict("compile", run.message or run.compile_log)
    if run.status == "timeout":
        return verdict("timeout", run.message)
    results = [m for line in marked_lines(run.output, nonce) if (m := _RESULT_LINE.fullmatch(line))]
    if run.status != "ok" or len(results) != 1:
        return verdict("runtime", run.message or "the testbench did not report its result")
    mismatches, samples = int(results[0].group(1)), int(results[0].group(2))
    if mismatches == 0 and samples > 0:
        return verdict(None)
    return verdict("mismatch", results[0].group(0))
