"""VerilogEval-v2-layout problem sets: `ProbNNN_name_{prompt.txt,ref.sv,test.sv}` (+ `_ifc.txt`).

Also records which reference solutions Debian's iverilog 11 cannot run, so a
model is not blamed for them: measured by running every reference as its own
candidate (see tests/test_eval_references.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SIMULATOR_LIMITED_SPEC_TO_RTL: frozenset[str] = frozenset(
    {"Prob099_m2014_q6c", "Prob151_review2015_fsm", "Prob156_review2015_fancytimer"}
)
"""Spec-to-rtl problems whose reference fails under iverilog 11 (port naming, unsupported casts)."""

SIMULATOR_LIMITED_CODE_COMPLETE: frozenset[str] = frozenset(
    {"Prob151_review2015_fsm", "Prob156_review2015_fancytimer"}
)
"""Code-complete problems whose reference fails under iverilog 11 (unsupported enum casts)."""


@dataclass(frozen=True)
class Problem:
    """One problem: its id (file prefix) and the paths of its files."""

    task_id: str
    prompt_path: Path
    reference_path: Path
    test_path: Path
    interface_path: Path | None

    @property
    def prompt(self) -> str:
        return self.prompt_path.read_text()


def load_problems(directory: Path) -> dict[str, Problem]:
    """All complete problems in `directory`, keyed by task id, in sorted order."""
    problems = {}
    for prompt in sorted(directory.glob("*_prompt.txt")):
        task_id = prompt.name[: -len("_prompt.txt")]
        reference = directory / f"{task_id}_ref.sv"
        test = directory / f"{task_id}_test.sv"
        interface = directory / f"{task_id}_ifc.txt"
        if reference.exists() and test.exists():
            problems[task_id] = Problem(task_id, prompt, reference, test, interface if interface.exists() else None)
    return problems


def simulator_limited(problems: dict[str, Problem]) -> frozenset[str]:
    """The known simulator-limited problems of this set (code-complete sets carry `_ifc.txt` files)."""
    code_complete = any(p.interface_path is not None for p in problems.values())
    known = SIMULATOR_LIMITED_CODE_COMPLETE if code_complete else SIMULATOR_LIMITED_SPEC_TO_RTL
    return frozenset(known & problems.keys())
