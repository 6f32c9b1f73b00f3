"""The closing line of `make quickstart` says whether set-up worked, the speed, and whether the module
parses and compiles (through the real pyslang and the sandboxed iverilog)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "quickstart_report.py"
spec = importlib.util.spec_from_file_location("quickstart_report", SCRIPT)
report = importlib.util.module_from_spec(spec)
spec.loader.exec_module(report)

RESULT = {"new_tokens": 12, "tokens_per_s": 20.5, "decoder": "medusa", "mean_accepted": 1.25}
HEAD = "quickstart: set-up works: 12 tokens at 20.5 tokens/s (medusa, 1.25 accepted per step); the module "


def test_a_compiling_module_is_reported_as_such():
    module = "module TopModule(input a, input b, output y);\n  assign y = a & b;\nendmodule\n"
    assert report.summary({**RESULT, "text": module}) == (True, HEAD + "parses with pyslang and compiles with iverilog")


def test_a_module_that_parses_but_does_not_compile_says_so():
    module = "module TopModule(input a, output y);\n  assign y = a & undeclared;\nendmodule\n"
    assert report.summary({**RESULT, "text": module})[1] == HEAD + "parses with pyslang but does NOT compile with iverilog"


def test_text_that_does_not_parse_says_so(tmp_path, capsys):
    path = tmp_path / "r.json"
    path.write_text(json.dumps({**RESULT, "text": "n: number) { return 1; }"}))
    assert report.main([str(path)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == HEAD + "does NOT parse with pyslang"


def test_no_result_is_a_failed_set_up(tmp_path, capsys):
    assert report.main([str(tmp_path / "missing.json")]) == 1
    assert capsys.readouterr().out.startswith("quickstart: set-up FAILED")
