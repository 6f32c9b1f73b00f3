"""Per-signal code extraction on hand-worked modules (line numbers counted by hand)."""

from __future__ import annotations

import pytest

from verifrag.syntax.signals import (
    SignalExtractionError,
    build_signal_graph,
    extract_signal_slices,
    select_signal_code,
)

SHARED = """module TopModule (
  input [3:0] a,
  input [3:0] b,
  input [3:0] c,
  output [3:0] x,
  output [3:0] y,
  output [3:0] z
);
  wire [3:0] common;
  wire [3:0] only_z;
  assign common = a & b;
  assign only_z = c ^ b;
  assign x = common | c;
  assign y = ~common;
  assign z = only_z;
endmodule
"""
#        1-8 header, 9 common decl, 10 only_z decl, 11 common, 12 only_z, 13 x, 14 y, 15 z, 16 endmodule

ALWAYS_TWO = """module TopModule (
  input clk,
  input reset,
  input [7:0] d,
  output reg [7:0] q,
  output reg [7:0] r
);
  localparam ZERO = 8'd0;
  always @(posedge clk) begin
    if (reset) begin
      q <= ZERO;
    end else begin
      q <= d;
      r <= d + 8'd1;
    end
  end
endmodule
"""

WITH_INSTANCE = """module TopModule (
  input a,
  input b,
  output y,
  output n
);
  wire t;
  inv u_inv (.i(a), .o(t));
  assign y = t & b;
  assign n = ~b;
endmodule

module inv (input i, output o);
  assign o = ~i;
endmodule
"""


def test_shared_logic_belongs_to_every_output_that_uses_it() -> None:
    slices = extract_signal_slices(SHARED)
    header = list(range(1, 9))
    assert list(slices["x"].lines) == header + [9, 11, 13, 16]
    assert list(slices["y"].lines) == header + [9, 11, 14, 16]
    assert list(slices["z"].lines) == header + [10, 12, 15, 16]


def test_spans_cover_exactly_the_selected_lines() -> None:
    slices = extract_signal_slices(SHARED)
    text = "".join(SHARED[start:end] for start, end in slices["y"].spans)
    assert text.splitlines() == [SHARED.splitlines()[i - 1] for i in slices["y"].lines]


def test_always_block_driving_two_outputs_is_split_by_statement() -> None:
    slices = extract_signal_slices(ALWAYS_TWO)
    header = list(range(1, 8))
    # q: localparam, always line, if, q <= ZERO, end else begin, q <= d, closing ends, endmodule
    assert list(slices["q"].lines) == header + [8, 9, 10, 11, 12, 13, 15, 16, 17]
    # r: no ZERO, no reset branch body, but the if/else structure that guards it
    assert list(slices["r"].lines) == header + [9, 10, 12, 14, 15, 16, 17]


def test_graph_records_control_dependencies() -> None:
    graph = build_signal_graph(ALWAYS_TWO)
    assert graph.outputs == ("q", "r") and graph.inputs == ("clk", "reset", "d")
    assert graph.dependencies["r"] == {"clk", "reset", "d"}
    assert {"ZERO", "clk", "reset", "d"} <= graph.cone("q")


def test_instance_outputs_depend_on_instance_inputs_and_bring_the_submodule() -> None:
    slices = extract_signal_slices(WITH_INSTANCE)
    header = list(range(1, 7))
    assert list(slices["y"].lines) == header + [7, 8, 9, 11, 13, 14, 15]
    assert list(slices["n"].lines) == header + [10, 11]
    assert "a" in build_signal_graph(WITH_INSTANCE).cone("y")


def test_select_keeps_correct_blocks_and_drops_lines_serving_only_wrong_signals() -> None:
    keep_q = select_signal_code(ALWAYS_TWO, correct=["q"], wrong=["r"])
    assert 14 not in keep_q.lines and {11, 13} <= set(keep_q.lines)
    keep_r = select_signal_code(ALWAYS_TWO, correct=["r"], wrong=["q"])
    assert {11, 13, 8} & set(keep_r.lines) == set() and 14 in keep_r.lines
    shared = select_signal_code(SHARED, correct=["x"], wrong=["y"])
    assert 11 in shared.lines and 14 not in shared.lines and 13 in shared.lines


def test_non_ansi_ports_and_unknown_names() -> None:
    text = "module m(a, b, y);\n  input a;\n  input b;\n  output y;\n  assign y = ~a;\nendmodule\n"
    graph = build_signal_graph(text)
    assert graph.inputs == ("a", "b") and graph.outputs == ("y",)
    assert list(extract_signal_slices(text)["y"].lines) == [1, 2, 4, 5, 6]
    with pytest.raises(SignalExtractionError):
        select_signal_code(text, correct=["nope"], wrong=[])
    with pytest.raises(SignalExtractionError):
        build_signal_graph("// no module here\n")
