"""A module header written from the ports a specification lists (`--header-from-spec`): the ports,
directions and widths the spec asks for, in a header that compiles whether the body drives an output
from an `assign` or an `always` block."""

from tests.salv_tiny import smollm_tokenizer
from verifrag.model.prompting import module_prompt, spec_header
from verifrag.simulation.interface import read_interface
from verifrag.simulation.sandbox import Limits, simulate

SPEC = """I would like you to implement a module named TopModule with the following
interface. All input and output ports are one bit unless otherwise specified.

 - input  clk
 - input  d      (8 bits)
 - output q      (8 bits)
 - output parity

The module should include 8 D flip-flops - input is d - and an even parity output.
"""


def test_the_header_has_exactly_the_listed_ports_and_widths():
    header = spec_header(SPEC)
    interface = read_interface(header + "endmodule\n")
    assert interface.name == "TopModule"
    assert [(p.direction, p.name, p.width) for p in interface.ports] == [
        ("input", "clk", 1), ("input", "d", 8), ("output", "q", 8), ("output", "parity", 1)]


def test_outputs_may_be_driven_by_always_blocks_and_by_assign():
    body = "always @(posedge clk) q <= d;\nassign parity = ^q;\nendmodule\n"
    result = simulate({"module.sv": spec_header(SPEC) + body}, "TopModule", limits=Limits())
    assert result.compiled, result


def test_a_spec_without_a_port_list_keeps_the_plain_start():
    tokenizer = smollm_tokenizer()
    prompt, start = module_prompt("A counter that wraps at 9.", tokenizer, header_from_spec=True)
    assert spec_header("A counter that wraps at 9.") is None
    assert start == "module TopModule" and prompt.endswith(start)
    prompt, start = module_prompt(SPEC, tokenizer, header_from_spec=True)
    assert start == spec_header(SPEC) and prompt.endswith(start)
    assert module_prompt(SPEC, tokenizer)[1] == "module TopModule"  # off unless asked for
