"""The closing line of `make quickstart` says whether set-up worked, the speed, and whether the text parses."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "quickstart_report.py"
spec = importlib.util.spec_from_file_location("quickstart_report", SCRIPT)
report = importlib.util.module_from_spec(spec)
spec.loader.exec_module(report)

PROMPT = "// and gate\nmodule and_gate("
RESULT = {"new_tokens": 12, "tokens_per_s": 20.5, "decoder": "medusa", "mean_accepted": 1.25}


def test_parsing_text_is_reported_as_parsing():
    worked, line = report.summary(PROMPT, {**RESULT, "text": "input a, input b, output y);\n  assign y = a & b;\nendmodule\n"})
    assert worked
    assert line == ("quickstart: set-up works: 12 tokens at 20.5 tokens/s (medusa, 1.25 accepted per step); "
                    "prompt + text parses with pyslang")


def test_text_that_does_not_parse_says_so(tmp_path, capsys):
    path = tmp_path / "r.json"
    path.write_text(json.dumps({**RESULT, "text": "n: number) { return 1; }"}))
    assert report.main([PROMPT.replace("\n", "\\n"), str(path)]) == 0
    assert "does NOT parse with pyslang" in capsys.readouterr().out.splitlines()[-1]


def test_no_result_is_a_failed_set_up(tmp_path, capsys):
    assert report.main([PROMPT, str(tmp_path / "missing.json")]) == 1
    assert capsys.readouterr().out.startswith("quickstart: set-up FAILED")
