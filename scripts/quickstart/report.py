"""The last lines of `make quickstart`: the generated module and one line that says whether set-up worked.

Reads the JSON object `verifrag generate --spec-file spec.txt --json` printed (DESIGN.md section 4), whose
text is a whole module. Set-up worked when the default model loaded and generated tokens; the speed, and
how far the module gets (parses with pyslang, compiles with Icarus Verilog, behaves like the hand-written
`reference.v` beside this script on random inputs), are reported beside it, so a user sees at once what
the default model can do. The module is model output, so it is screened, compiled and simulated in the
project's sandbox like any other candidate.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REFERENCE = Path(__file__).with_name("reference.v")


def verdict(module: str, reference: str) -> str:
    """How far `module` gets: parse, compile, then the same outputs as `reference` cycle by cycle."""
    from verifrag.evaluation.judge import syntax_valid
    from verifrag.simulation.verification import verify

    if not syntax_valid(module):
        return "does NOT parse with pyslang"
    result = verify(reference, module)
    if not result.compiled:
        return "parses with pyslang but does NOT compile with iverilog"
    if result.all_correct:
        checked = min(v.checked for v in result.signals.values())
        return f"compiles with iverilog and matches the reference on all {checked} checked cycles"
    wrong = ", ".join(sorted(result.wrong_signals())) or result.status
    return f"compiles with iverilog but does NOT behave like the reference ({wrong} differs)"


def summary(result: dict) -> tuple[bool, str]:
    """(set-up worked, the closing line) for a `generate --spec-file --json` result."""
    worked = result.get("new_tokens", 0) > 0
    reached = verdict(result.get("text", ""), REFERENCE.read_text())
    line = (f"quickstart: set-up {'works' if worked else 'FAILED (no tokens generated)'}: "
            f"{result.get('new_tokens', 0)} tokens at {result.get('tokens_per_s', 0.0):.1f} tokens/s "
            f"({result.get('decoder')}, {result.get('mean_accepted', 0.0):.2f} accepted per step); "
            f"the module {reached}")
    return worked, line


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: report.py RESULT.json", file=sys.stderr)
        return 2
    try:
        result = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        print(f"quickstart: set-up FAILED: no generate result in {argv[0]} ({exc})")
        return 1
    print(result.get("text", ""))
    worked, line = summary(result)
    print(line)
    return 0 if worked else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
