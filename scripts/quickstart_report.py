"""The last lines of `make quickstart`: the generated module and one line that says whether set-up worked.

Reads the JSON object `verifrag generate --spec ... --json` printed (DESIGN.md section 4), whose text is a
whole module. Set-up worked when the default model loaded and generated tokens; whether the module parses
with pyslang and compiles with Icarus Verilog, and the speed, are reported beside it, so a user sees at
once what the default model can do. The module is model output, so it is screened and compiled in the
project's sandbox like any other candidate.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def compiles(module: str) -> bool:
    """iverilog accepts the screened module (the sandbox of `verifrag verify`)."""
    from verifrag.simulation.sandbox import Limits, simulate
    from verifrag.simulation.screening import screen_source

    limits = Limits()
    screened = screen_source(module, limits)
    if screened.text is None:
        return False
    return simulate({"module.sv": screened.text}, "TopModule", limits=limits).compiled


def summary(result: dict) -> tuple[bool, str]:
    """(set-up worked, the closing line) for a `generate --spec --json` result."""
    from verifrag.evaluation.judge import syntax_valid

    text = result.get("text", "")
    worked = result.get("new_tokens", 0) > 0
    verdict = ("parses with pyslang and compiles with iverilog" if syntax_valid(text) and compiles(text)
               else "parses with pyslang but does NOT compile with iverilog" if syntax_valid(text)
               else "does NOT parse with pyslang")
    line = (f"quickstart: set-up {'works' if worked else 'FAILED (no tokens generated)'}: "
            f"{result.get('new_tokens', 0)} tokens at {result.get('tokens_per_s', 0.0):.1f} tokens/s "
            f"({result.get('decoder')}, {result.get('mean_accepted', 0.0):.2f} accepted per step); "
            f"the module {verdict}")
    return worked, line


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: quickstart_report.py RESULT.json", file=sys.stderr)
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
