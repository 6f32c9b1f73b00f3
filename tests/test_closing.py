"""Closing a module generation left open (token limit or a repetition loop), and the loop stop rule."""

from verifrag.evaluation.judge import syntax_valid
from verifrag.model.prompting import module_text
from verifrag.model.stopping import repetition
from verifrag.syntax.closing import close_module

HEADER = "module TopModule (\n    input clk,\n    input [1:0] sel,\n    output reg [3:0] q\n);\n"


def test_a_closed_module_is_returned_unchanged():
    text = HEADER + "    always @(posedge clk) q <= q + 1;\nendmodule\n"
    assert close_module(text) == text


def test_open_blocks_are_closed_innermost_first_after_the_last_whole_statement():
    text = HEADER + ("    always @(posedge clk) begin\n        case (sel)\n            2'd0: q <= 4'd1;\n"
                     "            2'd1: q <= // 00000000000000")
    closed = close_module(text)
    assert syntax_valid(closed) and not syntax_valid(text)
    assert closed.endswith("2'd0: q <= 4'd1;\n        endcase\n    end\nendmodule\n")


def test_a_semicolon_inside_brackets_ends_no_statement():
    text = HEADER + "    integer i;\n    always @* begin\n        for (i = 0; i < 4; i = i"
    closed = close_module(text)
    assert syntax_valid(closed)
    assert "for" not in closed and closed.endswith("integer i;\n    always @* begin\n    end\nendmodule\n")


def test_text_with_nothing_whole_after_module_is_left_alone():
    for text in ("module TopModule (\n    input clk,\n", "assign x = 1;", ""):
        assert close_module(text) == text


def test_module_text_closes_what_the_model_left_open():
    assert syntax_valid(module_text("module TopModule", " (input a, output b);\n    assign b = a;\n    assign"))
    assert module_text("module TopModule", "(input a);\nendmodule\n```\nThis module") == "module TopModule(input a);\nendmodule\n"


def test_repetition_cuts_a_run_of_one_short_unit():
    text = "module m;\n    assign x = 1; // " + "0" * 100
    cut = repetition(text)
    assert cut is not None and text[:cut].endswith("// ")
    assert repetition("module m;\n    assign x = 1; // " + "0" * 99) is None
    assert repetition("module m (\n    input wire" + " [3:0]" * 17) is not None  # a unit of 6 characters


def test_repetition_keeps_one_copy_of_a_line_written_four_times():
    line = "    assign y = a & b;\n"
    assert repetition("module m;\n" + line * 3) is None
    text = "module m;\n" + line * 4
    cut = repetition(text)
    assert text[:cut] == "module m;\n" + line.rstrip("\n")


def test_banners_and_nested_ends_are_not_loops():
    assert repetition("// " + "=" * 77 + "\nmodule m;\n") is None  # a run under the 100-character window
    assert repetition("module m;\n      end\n    end\n  end\nend\n") is None
