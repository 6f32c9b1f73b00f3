"""The last lines of `make quickstart`: the generated text and one line that says whether set-up worked.

Reads the JSON object `verifrag generate --json` printed (DESIGN.md section 4). Set-up worked when the
default model loaded and generated tokens; whether the prompt plus the text parses with pyslang and
the speed are reported beside it, because the default model does not yet write usable Verilog and a
user should see that at once rather than find it later.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def summary(prompt: str, result: dict) -> tuple[bool, str]:
    """(set-up worked, the closing line) for a `generate --json` result."""
    from verifrag.evaluation.judge import syntax_valid

    worked = result.get("new_tokens", 0) > 0
    parses = syntax_valid(prompt + result.get("text", ""))
    line = (f"quickstart: set-up {'works' if worked else 'FAILED (no tokens generated)'}: "
            f"{result.get('new_tokens', 0)} tokens at {result.get('tokens_per_s', 0.0):.1f} tokens/s "
            f"({result.get('decoder')}, {result.get('mean_accepted', 0.0):.2f} accepted per step); "
            f"prompt + text {'parses' if parses else 'does NOT parse'} with pyslang"
            + ("" if parses else " (expected: the default model does not yet write usable Verilog, see README)"))
    return worked, line


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: quickstart_report.py PROMPT_TEXT RESULT.json", file=sys.stderr)
        return 2
    prompt = argv[0].replace("\\n", "\n")
    try:
        result = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        print(f"quickstart: set-up FAILED: no generate result in {argv[1]} ({exc})")
        return 1
    print(prompt + result.get("text", ""))
    worked, line = summary(prompt, result)
    print(line)
    return 0 if worked else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
