"""The sandbox and the screening in front of it (real iverilog, real bubblewrap where it starts)."""

from __future__ import annotations

import pytest

from verifrag.evaluation.judge import ResultFormatError, mark_testbench
from verifrag.simulation.renaming import rename_modules, top_modules
from verifrag.simulation.sandbox import Limits, simulate, wall_backstop
from verifrag.simulation.screening import screen


def test_screening_refuses_file_and_system_tasks_as_tokens() -> None:
    code = """module m;
  initial begin
    $fopen("x");
    $fwrite(f, "y");
    $readmemh("/etc/passwd", mem);
    $dumpfile("a.vcd");
    $system("ls");
  end
endmodule
"""
    refused = {r.token for r in screen(code)}
    assert refused == {"$fopen", "$fwrite", "$readmemh", "$dumpfile", "$system"}


def test_screening_ignores_strings_and_comments() -> None:
    code = 'module m; // $system("rm")\n/* $fopen */ initial $display("$fwrite %d", $random); endmodule\n'
    assert screen(code) == []


def test_screening_refuses_include_and_token_pasting() -> None:
    assert [r.token for r in screen('`include "/etc/passwd"\nmodule m; endmodule\n')] == ["`include"]
    pasted = "`define F(x) $f``x\nmodule m; initial `F(open)(\"a\"); endmodule\n"
    assert {r.token for r in screen(pasted)} == {"$f", "``"}


def test_simulate_reports_output_compile_errors_and_timeouts() -> None:
    ok = simulate({"a.v": 'module t; initial begin $display("hello"); $finish; end endmodule\n'}, "t")
    assert ok.status == "ok" and ok.output.strip() == "hello"
    broken = simulate({"a.v": "module t; wire w = ; endmodule\n"}, "t")
    assert broken.status == "compile_error" and "syntax error" in broken.compile_log
    spin = simulate({"a.v": "module t; initial while (1) ; endmodule\n"}, "t", limits=Limits(run_seconds=1.0))
    assert spin.status == "timeout"


def test_time_limit_counts_cpu_seconds_not_wall_clock() -> None:
    """The spinning simulator is stopped by RLIMIT_CPU (SIGXCPU), so waiting for a busy CPU costs nothing."""
    spin = simulate({"a.v": "module t; initial while (1) ; endmodule\n"}, "t", limits=Limits(run_seconds=1.0))
    assert spin.status == "timeout" and spin.details == {"phase": "run", "clock": "cpu"}
    assert spin.message == "simulation timed out after 1 s of CPU time"
    assert wall_backstop(20.0) == 200.0


def test_simulate_caps_output() -> None:
    chatty = 'module t; initial forever $display("0123456789012345678901234567890123456789"); endmodule\n'
    limits = Limits(run_seconds=20.0, output_bytes=10_000, file_bytes=100_000)
    result = simulate({"a.v": chatty}, "t", limits=limits)
    assert result.status == "output_limit" and len(result.output) <= 10_000


def test_simulate_caps_memory() -> None:
    hog = "module t; reg [63:0] m [0:200000000]; initial begin m[7] = 1; $finish; end endmodule\n"
    result = simulate({"a.v": hog}, "t", limits=Limits(memory_bytes=256 * 1024**2))
    assert result.status == "memory_limit"
    assert result.message == "vvp ran out of memory (std::bad_alloc under the memory limit)"


def test_rename_touches_declarations_and_instances_only() -> None:
    text = 'module sub(input a, output b); assign b = a; endmodule\nmodule top(input a, output b);\n' \
           '  sub u(.a(a), .b(b)); initial $display("sub top"); // sub\nendmodule\n'
    assert top_modules(text) == ["top"]
    renamed, mapping = rename_modules(text, "_x")
    assert mapping == {"sub": "sub_x", "top": "top_x"}
    assert "module sub_x(" in renamed and "sub_x u(" in renamed and "module top_x(" in renamed
    assert '"sub top"' in renamed and "// sub\n" in renamed


def test_screening_has_no_false_refusals_on_ordinary_rtl() -> None:
    code = """module top(input [3:0] a, output [3:0] y, output r);
  real k = 1.5e3;
  sub u0(.a(a), .y(y));
  sub u1(.*);
  assign r = (a == 4'b1x_0) ? 1'b1 : 1'b0;
  initial $display("a.b $fopen \\\\$system %d", $random);
endmodule
"""
    assert screen(code) == []


def test_judge_rewrites_exactly_one_verilogeval_result_format() -> None:
    test = 'final $display("Mismatches: %1d in %1d samples", e, n);\n'
    assert mark_testbench(test, "VFabc") == 'final $display("VFabc Mismatches: %1d in %1d samples", e, n);\n'
    with pytest.raises(ResultFormatError):
        mark_testbench(test + test, "VFabc")
