"""Escape and forgery attempts against the simulation sandbox (issue 13), with real iverilog and bubblewrap.

Every candidate here is hostile and, where it has a design at all, a wrong
one (`y = ~a` where the reference says `y = a`).  Each must end in one of
three ways: refused before simulation, contained (no file outside the
sample's temporary folder created or changed, no secret content in the
verdict), or judged correctly (never `all_correct` / passed).  The
filesystem is checked after every case.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from verifrag.evaluation.judge import judge
from verifrag.evaluation.problems import load_problems
from verifrag.simulation import isolation
from verifrag.simulation.sandbox import Limits, Workspace, simulate
from verifrag.simulation.verification import verify

REFERENCE = "module TopModule(input [3:0] a, output [3:0] y);\n  assign y = a;\nendmodule\n"
SECRET_TEXT = "verifrag-secret-7f3a9c"
BENCH = Path(__file__).resolve().parents[1] / ".." / "shared" / "benchmarks" / "verilog-eval-v2" / "dataset_spec-to-rtl"

WRONG_HEAD = "module TopModule(input [3:0] a, output [3:0] y);\n  assign y = ~a;\n"


def wrong(body: str) -> str:
    """The wrong design with `body` added inside its module."""
    return WRONG_HEAD + body + "\nendmodule\n"


# (case id, candidate; CANARY and SECRET stand for host paths outside the sandbox, expected outcome)
ATTACKS: list[tuple[str, str, str]] = [
    ("escaped-fopen-write", wrong('integer f; initial begin f = \\$fopen ("CANARY", "w"); \\$fwrite (f, "x"); end'),
     "refused"),
    ("escaped-fgets-read", wrong('integer f, r; reg [8*64:1] s; initial begin f = \\$fopen ("SECRET", "r"); '
                                 'r = \\$fgets (s, f); $display("%s", s); end'), "refused"),
    ("escaped-dumpfile", wrong('initial begin \\$dumpfile ("CANARY"); \\$dumpvars ; end'), "refused"),
    ("macro-hides-escaped-fopen", "`define S \\$fopen\n" + wrong('integer f; initial f = `S ("CANARY", "w");'),
     "refused"),
    ("macro-arg-hides-fopen",
     "`define CALL(t) t(\"CANARY\", \"w\")\n" + wrong("integer f; initial f = `CALL(\\$fopen );"), "refused"),
    ("triple-quote-false-ifdef",
     "`ifdef NEVER\n\"\"\"\n`endif\n" + wrong('integer f; initial f = $fopen("CANARY", "w");')
     + "`ifdef NEVER\n\"\"\"\n`endif\n", "refused"),
    ("plain-fopen", wrong('integer f; initial begin f = $fopen("CANARY", "w"); $fdisplay(f, "x"); end'), "refused"),
    ("fdisplay-stdout-descriptor", wrong('initial $fdisplay(32\'h8000_0001, "x");'), "refused"),
    ("system", wrong('initial $system("touch CANARY");'), "refused"),
    ("system-split-by-escape", wrong('initial $sys\\tem ("touch CANARY");'), "refused"),
    ("readmemh-secret", wrong('reg [7:0] m [0:3]; initial $readmemh("SECRET", m);'), "refused"),
    ("writememh", wrong('reg [7:0] m [0:3]; initial $writememh("CANARY", m);'), "refused"),
    ("include-absolute", '`include "SECRET"\n' + wrong(""), "refused"),
    ("include-through-macro", '`define I `include\n`I "SECRET"\n' + wrong(""), "refused"),
    ("include-in-false-branch-string-trick", '`ifdef NEVER\n"""\n`endif\n`include "SECRET"\n' + wrong(""), "refused"),
    ("value-plusargs", wrong('integer v; initial if ($value$plusargs("x=%d", v)) $display(v);'), "refused"),
    ("test-plusargs", wrong('initial if ($test$plusargs("x")) $display("x");'), "refused"),
    ("dpi-import", 'import "DPI-C" function int system(input string c);\n' + wrong('initial system("touch CANARY");'),
     "refused"),
    ("vpi-task", wrong('initial $ivl_darray_method$delete();'), "refused"),
    ("initial-finish", wrong("initial $finish;"), "refused"),
    ("delayed-stop", wrong("initial #3 $stop;"), "refused"),
    ("fatal", wrong('initial #2 $fatal(0, "bye");'), "refused"),
    ("escaped-finish", wrong("initial \\$finish ;"), "refused"),
    ("hierarchical-force", wrong("initial force verifrag_tb.vf_mismatch__y = 0;"), "refused"),
    ("hierarchical-release", wrong("initial #9 release verifrag_tb.vf_mismatch__y;"), "refused"),
    ("hierarchical-assign", wrong("always @* verifrag_tb.vf_mismatch__y = 0;"), "refused"),
    ("escaped-hierarchical", wrong("initial force \\verifrag_tb .vf_mismatch__y = 0;"), "refused"),
    ("root-reference", wrong("initial force $root.verifrag_tb.vf_mismatch__y = 0;"), "refused"),
    ("defparam-upward", wrong("defparam verifrag_tb.vf_ref_dut.W = 1;"), "refused"),
    ("macro-token-paste", "`define F(x) $f``x\n" + wrong('integer f; initial f = `F(open)("CANARY", "w");'), "refused"),
    ("macro-stringify", "`define Q(x) `\"x`\"\n" + wrong('initial $display(`Q(hi));'), "refused"),
    ("comment-opener-in-string", wrong('integer f; initial begin $display("/*"); f = $fopen("CANARY", "w"); '
                                       '$display("*/"); end'), "refused"),
    ("string-ends-at-newline", wrong('integer f; initial begin $display("abc\\\nf = $fopen("CANARY", "w"); end'),
     "refused"),
    ("bind", wrong("") + "bind verifrag_tb TopModule spy(.a(4'd0), .y());\n", "refused"),
    ("fake-marker-display", wrong('initial #2000 begin $display("VERIFRAG_SIGNAL y 0 266"); '
                                  '$display("VERIFRAG_DONE"); end'), "wrong"),
    ("fake-marker-final", wrong('final begin $display("VERIFRAG_SIGNAL y 0 266"); $display("VERIFRAG_DONE"); end'),
     "wrong"),
    ("calls-testbench-task", wrong("always @(a) vf_check;"), "wrong"),
    ("zero-delay-spin", wrong("reg s = 0; initial while (1) s = ~s;"), "timeout"),
    ("output-flood", wrong('initial forever #0 $display("flood flood flood flood flood flood flood");'),
     "output_limit"),
    ("memory-hog", wrong("reg [63:0] m [0:400000000]; initial m[3] = 1;"), "memory_limit"),
]

STRICT = Limits(run_seconds=3.0, memory_bytes=512 * 1024**2, output_bytes=100_000, file_bytes=1_000_000)


@pytest.fixture
def host(tmp_path: Path) -> dict[str, Path]:
    """A canary path that must never appear and a secret file that must never leak."""
    secret = tmp_path / "secret.txt"
    secret.write_text(f"module leaked; {SECRET_TEXT} endmodule\n")
    return {"CANARY": tmp_path / "pwned.txt", "SECRET": secret}


def _instantiate(text: str, host: dict[str, Path]) -> str:
    for key, path in host.items():
        text = text.replace(key, str(path))
    return text


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}


def test_corpus_has_at_least_30_cases_with_unique_ids() -> None:
    ids = [case[0] for case in ATTACKS]
    assert len(ids) >= 30 and len(set(ids)) == len(ids)


@pytest.mark.parametrize(("case", "candidate", "expected"), ATTACKS, ids=[a[0] for a in ATTACKS])
def test_attack_is_refused_contained_or_judged_wrong(case: str, candidate: str, expected: str, host) -> None:
    before = _snapshot(host["SECRET"].parent)
    result = verify(REFERENCE, _instantiate(candidate, host), vectors=16, limits=STRICT)
    assert not result.all_correct
    assert result.status == ("ok" if expected == "wrong" else expected), result.error
    if expected == "wrong":
        assert result.wrong_signals() == {"y"}
    assert not host["CANARY"].exists()
    assert _snapshot(host["SECRET"].parent) == before
    assert SECRET_TEXT not in json.dumps(result.to_json()) + result.log


def test_correct_design_still_passes_next_to_the_attacks() -> None:
    assert verify(REFERENCE, REFERENCE, vectors=16, limits=STRICT).all_correct


needs_bench = pytest.mark.skipif(not BENCH.is_dir(), reason=f"VerilogEval v2 data not found at {BENCH}")
ZERO_WRONG = "module TopModule(output zero);\n  assign zero = 1'b1;\n"
EVAL_ATTACKS = [
    ("fake-mismatches-line", ZERO_WRONG + 'initial $display("Mismatches: 0 in 20 samples");\nendmodule\n',
     "mismatch"),
    ("fake-mismatches-final", ZERO_WRONG + 'final $display("Mismatches: 0 in 20 samples");\nendmodule\n',
     "mismatch"),
    ("early-finish-before-any-sample", ZERO_WRONG + "initial $finish;\nendmodule\n", "refused"),
    ("hierarchical-stats", ZERO_WRONG + "initial force tb.stats1.errors = 0;\nendmodule\n", "refused"),
]


@needs_bench
@pytest.mark.parametrize(("case", "completion", "kind"), EVAL_ATTACKS, ids=[a[0] for a in EVAL_ATTACKS])
def test_eval_verdict_cannot_be_forged(case: str, completion: str, kind: str) -> None:
    problem = load_problems(BENCH)["Prob001_zero"]
    judgement = judge(problem, 0, "d", completion, STRICT)
    assert not judgement.passed and judgement.kind == kind, judgement.detail


@needs_bench
def test_eval_correct_completion_still_passes() -> None:
    problem = load_problems(BENCH)["Prob001_zero"]
    correct = "module TopModule(output zero);\n  assign zero = 1'b0;\n  initial $display(\"hello\");\nendmodule\n"
    assert judge(problem, 0, "d", correct, STRICT).passed


needs_bwrap = pytest.mark.skipif(isolation.available_mode() != "bwrap", reason="bubblewrap cannot start here")
ESCAPE = """module t;
  integer w, r, c;
  initial begin
    w = $fopen("CANARY", "w");
    $fdisplay(w, "escaped");
    r = $fopen("SECRET", "r");
    c = $fgetc(r);
    $display("write=%0d read=%0d char=%0d", w, r, c);
    $finish;
  end
endmodule
"""


@needs_bwrap
def test_bubblewrap_contains_what_screening_would_miss(host) -> None:
    """Screening is bypassed on purpose: the simulator itself must not reach host files."""
    result = simulate({"t.v": _instantiate(ESCAPE, host)}, "t", limits=STRICT)
    assert result.status == "ok"
    assert "write=0 read=0" in result.output
    assert not host["CANARY"].exists()


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"), reason="needs root and unshare")
def test_unshare_fallback_runs_as_nobody_and_cannot_write_host_files(host) -> None:
    with Workspace(STRICT, mode="unshare") as work:
        work.write("t.v", _instantiate(ESCAPE, host))
        compiled, log, _ = work.run(["iverilog", "-o", "t.vvp", "t.v"], 10, "compile.log")
        ran, output, _ = work.run(["vvp", "-n", "t.vvp"], 10, "run.log")
    assert compiled.returncode == 0 and ran.returncode == 0, log + output
    assert "write=0 read=0" in output
    assert not host["CANARY"].exists()


def test_no_isolation_warns_once_and_still_screens(capsys, monkeypatch) -> None:
    monkeypatch.setattr(isolation, "_warned", set())
    evil = wrong('initial $system("true");')
    assert verify(REFERENCE, evil, limits=Limits(isolate=False)).status == "refused"
    assert verify(REFERENCE, REFERENCE, vectors=4, limits=Limits(isolate=False)).all_correct
    assert capsys.readouterr().err.count("simulation isolation is OFF") == 1
