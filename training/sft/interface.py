"""Pairs whose prompt states the module's interface, as a designer (or VerilogEval) would.

AutoVCoder's specifications describe behaviour but rarely name ports, so a model tuned on them invents
its own port names and widths, and a module that ignores the asked-for interface is wrong however good
its logic. This rewrite lists each answer's ports (read from the answer itself by elaboration) at the top
of its prompt and renames the module `TopModule`, the name generation asks for, so the model learns to
take names and widths from the prompt. The wording is our own, not a benchmark's.
"""

from __future__ import annotations

import re

from verifrag.model.prompting import TOP_MODULE
from verifrag.simulation.interface import InterfaceError, read_interface
from verifrag.training.sft.examples import Pair

HEADER = f"Implement the module {TOP_MODULE} with these ports (one bit wide unless a width is given):"


def with_interface(pair: Pair) -> Pair | None:
    """The pair with its ports listed in the prompt and its module named TopModule; None when the answer
    does not elaborate to exactly one module with plain input and output ports."""
    try:
        interface = read_interface(pair.module)
    except InterfaceError:
        return None
    ports = [f" - {port.direction:<6} {port.name}" + (f" ({port.width} bits)" if port.width > 1 else "")
             for port in interface.ports]
    module, renamed = re.subn(rf"\bmodule\s+{re.escape(interface.name)}\b", f"module {TOP_MODULE}", pair.module, count=1)
    if not renamed:
        return None
    spec = "\n".join([HEADER, "", *ports, "", pair.spec.strip()])
    return Pair(spec, module, pair.source, pair.license)
