"""The closing line of `make quickstart` says whether set-up worked, the speed, and how far the module gets:
parses, compiles, behaves like the hand-written reference counter (the real pyslang, the sandboxed
iverilog and the signal-level verifier)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "quickstart" / "report.py"
spec = importlib.util.spec_from_file_location("quickstart_report", SCRIPT)
report = importlib.util.module_from_spec(spec)
spec.loader.exec_module(report)

RESULT = {"new_tokens": 12, "tokens_per_s": 20.5, "decoder": "medusa", "mean_accepted": 1.25}
HEAD = "quickstart: set-up works: 12 tokens at 20.5 tokens/s (medusa, 1.25 accepted per step); the module "
COUNTER = ("module TopModule(input clk, input reset, output reg [3:0] q);\n"
           "  always @(posedge clk) begin\n    if (reset) q <= 0;\n    else q <= q + 1;\n  end\nendmodule\n")


def test_a_counter_that_counts_matches_the_reference():
    worked, line = report.summary({**RESULT, "text": COUNTER})
    assert worked and line.startswith(HEAD + "compiles with iverilog and matches the reference on all ")


def test_a_compiling_module_that_shifts_instead_of_counting_is_reported_as_wrong():
    shifter = COUNTER.replace("q <= q + 1", "q <= {q[2:0], q[3]}")
    assert report.summary({**RESULT, "text": shifter})[1] == (
        HEAD + "compiles with iverilog but does NOT behave like the reference (q differs)")


def test_a_module_that_parses_but_does_not_compile_says_so():
    module = COUNTER.replace("q + 1", "q + undeclared")
    assert report.summary({**RESULT, "text": module})[1] == HEAD + "parses with pyslang but does NOT compile with iverilog"


def test_text_that_does_not_parse_says_so(tmp_path, capsys):
    path = tmp_path / "r.json"
    path.write_text(json.dumps({**RESULT, "text": "n: number) { return 1; }"}))
    assert report.main([str(path)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == HEAD + "does NOT parse with pyslang"


def test_no_result_is_a_failed_set_up(tmp_path, capsys):
    assert report.main([str(tmp_path / "missing.json")]) == 1
    assert capsys.readouterr().out.startswith("quickstart: set-up FAILED")


def test_the_reference_counter_matches_itself():
    reference = report.REFERENCE.read_text()
    assert "matches the reference" in report.verdict(reference, reference)
