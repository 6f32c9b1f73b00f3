"""Generate a Verilog testbench that drives reference and candidate with the same inputs.

Timing (documented in docs/simulation-and-evaluation.md), with one step per
input vector:

- sequential (one or more clocks; several clocks are driven in phase):
  inputs change 1 time unit after the falling edge, outputs are checked 3
  units later (catches combinational and Mealy outputs), the clocks rise,
  outputs are checked again 4 units after the rising edge, the clocks fall;
- combinational (no clock): inputs change, outputs are checked 4 units later.

At every check each output is compared with VerilogEval's rule
`ref !== (ref ^ cand ^ ref)`: an x/z bit in the reference is a don't-care,
an x/z bit in the candidate where the reference is 0/1 is a mismatch.

Result lines start with the run's secret nonce (see `nonce`), so a
candidate's own `$display` of a result marker is not read as a result.
"""

from __future__ import annotations

from verifrag.simulation.interface import ModuleInterface, Port

TESTBENCH_TOP = "verifrag_tb"
SIGNAL_MARK = "VERIFRAG_SIGNAL"
DONE_MARK = "VERIFRAG_DONE"


def _decl(port: Port) -> str:
    return f"[{port.width - 1}:0] " if port.width > 1 else ""


def _literal(port: Port, value: int) -> str:
    return f"{port.width}'h{value:x}"


def _instance(module: str, instance: str, interface: ModuleInterface, prefix: str) -> str:
    connections = [
        f".{p.name}({p.name if p.direction == 'input' else prefix + p.name})" for p in interface.ports
    ]
    return f"  {module} {instance} (\n    " + ",\n    ".join(connections) + "\n  );"


def build_testbench(interface: ModuleInterface, reference: str, candidate: str, vectors: list[dict[str, int]],
                    nonce: str) -> str:
    """Return testbench source instantiating module `reference` and module `candidate`, results marked by `nonce`."""
    inputs = {p.name: p for p in interface.inputs}
    clocks = [p.name for p in interface.clocks]
    lines = ["`timescale 1ns/1ps", f"module {TESTBENCH_TOP};"]
    for port in interface.inputs:
        init = " = 1'b0" if port.role == "clock" else ""
        lines.append(f"  reg {_decl(port)}{port.name}{init};")
    for port in interface.outputs:
        lines.append(f"  wire {_decl(port)}vf_ref__{port.name};")
        lines.append(f"  wire {_decl(port)}vf_cand__{port.name};")
        lines.append(f"  integer vf_mismatch__{port.name} = 0;")
    lines.append("  integer vf_checks = 0;")
    lines.append(_instance(reference, "vf_ref_dut", interface, "vf_ref__"))
    lines.append(_instance(candidate, "vf_cand_dut", interface, "vf_cand__"))
    lines.append("  task vf_check;")
    lines.append("    begin")
    lines.append("      vf_checks = vf_checks + 1;")
    for port in interface.outputs:
        ref, cand = f"vf_ref__{port.name}", f"vf_cand__{port.name}"
        lines.append(f"      if ({ref} !== ({ref} ^ {cand} ^ {ref})) vf_mismatch__{port.name} = vf_mismatch__{port.name} + 1;")
    lines.append("    end")
    lines.append("  endtask")
    lines.append("  initial begin")
    for vector in vectors:
        assigns = " ".join(f"{name} = {_literal(inputs[name], value)};" for name, value in vector.items())
        if clocks:
            rise = " ".join(f"{c} = 1'b1;" for c in clocks)
            fall = " ".join(f"{c} = 1'b0;" for c in clocks)
            lines.append(f"    #1 {assigns} #3 vf_check; #1 {rise} #4 vf_check; #1 {fall}")
        else:
            lines.append(f"    #1 {assigns} #4 vf_check; #5;")
    for port in interface.outputs:
        lines.append(f'    $display("{nonce} {SIGNAL_MARK} {port.name} %0d %0d", vf_mismatch__{port.name}, vf_checks);')
    lines.append(f'    $display("{nonce} {DONE_MARK}");')
    lines.append("    $finish;")
    lines.append("  end")
    lines.append("endmodule")
    return "\n".join(lines) + "\n"
