"""Signal-aware verification on hand-written reference/candidate pairs (real iverilog)."""

from __future__ import annotations

import argparse
import json

import pytest

from verifrag.cli import verify_command
from verifrag.simulation.interface import InterfaceError
from verifrag.simulation.sandbox import Limits
from verifrag.simulation.verification import verify

COMBINATIONAL = """module TopModule (
  input  [3:0] a,
  input  [3:0] b,
  output [3:0] sum,
  output       all_ones,
  output [7:0] product
);
  assign sum = a + b;
  assign all_ones = &a;
  assign product = a * b;
endmodule
"""

SEQUENTIAL = """module TopModule (
  input clk,
  input reset,
  input [7:0] d,
  input en,
  output reg [7:0] q,
  output reg [3:0] count
);
  always @(posedge clk) begin
    if (reset) begin
      q <= 8'd0;
      count <= 4'd0;
    end else if (en) begin
      q <= d;
      count <= count + 4'd1;
    end
  end
endmodule
"""


def test_correct_combinational_candidate_passes_every_signal() -> None:
    result = verify(COMBINATIONAL, COMBINATIONAL, vectors=64)
    assert result.status == "ok" and result.compiled and result.all_correct
    assert set(result.signals) == {"sum", "all_ones", "product"}
    assert all(v.mismatches == 0 and v.checked > 64 for v in result.signals.values())


def test_exactly_one_wrong_combinational_output_is_singled_out() -> None:
    candidate = COMBINATIONAL.replace("assign sum = a + b;", "assign sum = a - b;")
    result = verify(COMBINATIONAL, candidate, vectors=64)
    assert result.status == "ok" and not result.all_correct
    assert result.wrong_signals() == {"sum"}
    assert result.correct_signals() == {"all_ones", "product"}
    assert result.signals["sum"].mismatches > 0


def test_equivalent_rewrite_is_accepted() -> None:
    candidate = COMBINATIONAL.replace("assign all_ones = &a;", "assign all_ones = (a == 4'hf);")
    assert verify(COMBINATIONAL, candidate, vectors=64).all_correct


def test_sequential_design_correct_and_one_wrong_register() -> None:
    assert verify(SEQUENTIAL, SEQUENTIAL).all_correct
    candidate = SEQUENTIAL.replace("count <= count + 4'd1;", "count <= count + 4'd2;")
    result = verify(SEQUENTIAL, candidate)
    assert result.wrong_signals() == {"count"}
    assert result.correct_signals() == {"q"}


def test_missing_reset_behaviour_is_caught_by_reset_vectors() -> None:
    candidate = SEQUENTIAL.replace("q <= 8'd0;", "q <= q;")
    result = verify(SEQUENTIAL, candidate)
    assert result.wrong_signals() == {"q"}


def test_candidate_that_does_not_compile() -> None:
    result = verify(COMBINATIONAL, COMBINATIONAL.replace("a + b;", "a + ;"))
    assert result.status == "compile_error" and not result.compiled and not result.all_correct
    assert result.signals == {} and "candidate.sv" in result.error


def test_candidate_that_hangs_times_out() -> None:
    hanging = SEQUENTIAL.replace("endmodule", "  always @(posedge clk) while (1) q = q;\nendmodule")
    result = verify(SEQUENTIAL, hanging, limits=Limits(run_seconds=2.0))
    assert result.status == "timeout" and result.compiled and not result.all_correct


def test_zero_delay_oscillation_times_out() -> None:
    loop = COMBINATIONAL.replace(
        "endmodule", "  reg p = 1'b0, r = 1'b0;\n  always @(a or r) p = ~r;\n  always @(p) r = p;\nendmodule"
    )
    result = verify(COMBINATIONAL, loop, limits=Limits(run_seconds=2.0))
    assert result.status == "timeout"


def test_system_task_candidate_is_refused_before_simulation() -> None:
    evil = COMBINATIONAL.replace("endmodule", '  initial $system("touch /tmp/verifrag-pwned");\nendmodule')
    result = verify(COMBINATIONAL, evil)
    assert result.status == "refused" and "$system" in result.error and not result.compiled


def test_same_module_names_and_shared_submodule_names_elaborate_together() -> None:
    reference = "module half(input x, output y); assign y = ~x; endmodule\n" + COMBINATIONAL
    candidate = COMBINATIONAL.replace(
        "assign all_ones = &a;", "wire t; half h(.x(~&a), .y(t)); assign all_ones = t;"
    ) + "module half(input x, output y); assign y = ~x; endmodule\n"
    assert verify(reference, candidate, top="TopModule", vectors=32).all_correct


def test_parameterised_reference_uses_defaults_and_wide_vectors() -> None:
    reference = """module RefModule #(parameter W = 100) (input [W-1:0] a, output [W-1:0] y, output p);
  assign y = {a[W-2:0], a[W-1]};
  assign p = ^a;
endmodule
"""
    candidate = reference.replace("RefModule", "TopModule").replace("^a", "|a")
    result = verify(reference, candidate, vectors=16)
    assert result.correct_signals() == {"y"} and result.wrong_signals() == {"p"}


def test_x_in_reference_is_dont_care_but_x_in_candidate_is_not() -> None:
    reference = "module TopModule(input a, output y); assign y = a ? 1'bx : 1'b0; endmodule\n"
    assert verify(reference, reference.replace("1'bx", "1'b1")).all_correct
    result = verify(reference.replace("1'bx", "1'b1"), reference)
    assert result.wrong_signals() == {"y"}


def test_unusable_reference_raises_interface_error() -> None:
    with pytest.raises(InterfaceError, match="no output"):
        verify("module m(input a); endmodule\n", "module m(input a); endmodule\n")
    with pytest.raises(InterfaceError, match="only input and output"):
        verify("module m(inout a, output b); assign b = a; endmodule\n", "")


def _run_cli(tmp_path, reference: str, candidate: str, *extra: str) -> int:
    (tmp_path / "ref.v").write_text(reference)
    (tmp_path / "cand.v").write_text(candidate)
    parser = argparse.ArgumentParser()
    verify_command.add_arguments(parser)
    args = parser.parse_args(["--reference", str(tmp_path / "ref.v"), "--candidate", str(tmp_path / "cand.v"), *extra])
    return verify_command.run(args)


def test_cli_json_contract_and_exit_codes(tmp_path, capsys) -> None:
    assert _run_cli(tmp_path, COMBINATIONAL, COMBINATIONAL, "--json", "--vectors", "8") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["compiled"] is True and report["error"] is None and report["all_correct"] is True
    assert set(report["signals"]["sum"]) == {"mismatches", "checked"}
    wrong = COMBINATIONAL.replace("a * b", "a * a")
    assert _run_cli(tmp_path, COMBINATIONAL, wrong, "--json") == verify_command.EXIT_NOT_CORRECT
    report = json.loads(capsys.readouterr().out)
    assert report["signals"]["product"]["mismatches"] > 0 and report["all_correct"] is False


def test_cli_missing_file_is_a_user_error(tmp_path) -> None:
    from verifrag.errors import UserError

    parser = argparse.ArgumentParser()
    verify_command.add_arguments(parser)
    args = parser.parse_args(["--reference", str(tmp_path / "nope.v"), "--candidate", str(tmp_path / "nope.v")])
    with pytest.raises(UserError, match="not found"):
        verify_command.run(args)


def test_cli_no_isolation_is_an_unsafe_but_working_escape_hatch(tmp_path, capsys, monkeypatch) -> None:
    from verifrag.simulation import isolation

    monkeypatch.setattr(isolation, "_warned", set())
    assert _run_cli(tmp_path, COMBINATIONAL, COMBINATIONAL, "--no-isolation", "--vectors", "4") == 0
    evil = COMBINATIONAL.replace("endmodule", '  initial \\$system ("true");\nendmodule')
    assert _run_cli(tmp_path, COMBINATIONAL, evil, "--no-isolation") == verify_command.EXIT_NOT_CORRECT
    captured = capsys.readouterr()
    assert "status: refused" in captured.out
    assert captured.err.count("simulation isolation is OFF") == 1
