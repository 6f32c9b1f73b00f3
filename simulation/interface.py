"""Read a reference module's port list with the pyslang AST, and classify clocks and resets.

The testbench generator needs each port's direction and elaborated bit width
(parameters at their defaults, packed dimensions flattened), which only a real
elaboration gives reliably; regexes over `input [W-1:0] a` would not.
Clock and reset detection is by name, because nothing else in the source says
which input is a clock; the rules are listed in `CLOCK_PATTERN` and
`RESET_PATTERN` and in docs/simulation-and-evaluation.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyslang
from pyslang import ast, parsing, syntax

CLOCK_PATTERN = re.compile(r"^(clk|clock)(_?\d+|_[a-z0-9]+)?$|^[a-z0-9_]*_(clk|clock)$", re.IGNORECASE)
"""clk, clock, clk2, clk_a, sys_clk, core_clock ... (1-bit inputs only)."""

RESET_PATTERN = re.compile(r"^(a?s?rst|a?s?reset|areset|sreset)(_?n|_b)?$|^[a-z0-9_]*_(rst|reset)(_?n|_b)?$",
                           re.IGNORECASE)
"""rst, reset, areset, arst_n, rstn, resetn, sys_rst, core_reset_n ... (1-bit inputs only)."""

_ACTIVE_LOW = re.compile(r"(_?n|_b)$", re.IGNORECASE)


class InterfaceError(ValueError):
    """The reference cannot be turned into a testbench (no module, unsupported ports ...)."""


@dataclass(frozen=True)
class Port:
    """One port of the module under test, at default parameter values."""

    name: str
    direction: str  # "input" or "output"
    width: int
    role: str = "data"  # "clock", "reset", "reset_n" (active low) or "data"


@dataclass(frozen=True)
class ModuleInterface:
    """The module under test: its name and ports in declaration order."""

    name: str
    ports: tuple[Port, ...]

    @property
    def inputs(self) -> tuple[Port, ...]:
        return tuple(p for p in self.ports if p.direction == "input")

    @property
    def outputs(self) -> tuple[Port, ...]:
        return tuple(p for p in self.ports if p.direction == "output")

    @property
    def clocks(self) -> tuple[Port, ...]:
        return tuple(p for p in self.ports if p.role == "clock")


def parse_tree(text: str, name: str = "source.sv") -> syntax.SyntaxTree:
    """Parse `text` without following any `include (untrusted code must not read host files)."""
    options = parsing.PreprocessorOptions()
    options.maxIncludeDepth = 0
    return syntax.SyntaxTree.fromText(text, pyslang.SourceManager(), name, "", pyslang.Bag([options]))


def _role(name: str, width: int) -> str:
    if width != 1:
        return "data"
    if CLOCK_PATTERN.match(name):
        return "clock"
    if RESET_PATTERN.match(name):
        return "reset_n" if _ACTIVE_LOW.search(name) else "reset"
    return "data"


def read_interface(text: str, top: str | None = None) -> ModuleInterface:
    """Elaborate `text` and return the ports of `top` (or of its single top-level module)."""
    tree = parse_tree(text)
    compilation = ast.Compilation()
    compilation.addSyntaxTree(tree)
    errors = [d for d in compilation.getAllDiagnostics() if d.isError()]
    if errors:
        report = pyslang.DiagnosticEngine.reportAll(compilation.sourceManager, errors).strip()
        first = report.splitlines()[0] if report else "parse error"
        raise InterfaceError(f"reference does not parse: {first}")
    instances = list(compilation.getRoot().topInstances)
    if top is not None:
        chosen = [i for i in instances if i.name == top]
        if not chosen:
            names = ", ".join(i.name for i in instances) or "none"
            raise InterfaceError(f"no top-level module named {top!r} (found: {names})")
    else:
        chosen = instances
        if len(chosen) != 1:
            names = ", ".join(i.name for i in instances) or "none"
            raise InterfaceError(f"expected one top-level module, found {len(chosen)} ({names}); name one with --top")
    body = chosen[0].body
    ports = []
    for port in body.portList:
        if port.kind != ast.SymbolKind.Port:
            raise InterfaceError(f"port {port.name!r}: interface and multi-ports are not supported")
        if not port.type.isIntegral:
            raise InterfaceError(f"port {port.name!r} has type {port.type}; only packed (integral) ports are supported")
        if port.direction == ast.ArgumentDirection.In:
            direction = "input"
        elif port.direction == ast.ArgumentDirection.Out:
            direction = "output"
        else:
            raise InterfaceError(f"port {port.name!r}: only input and output ports are supported")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", port.name):
            raise InterfaceError(f"port {port.name!r}: escaped port names are not supported")
        width = port.type.bitWidth
        ports.append(Port(port.name, direction, width, _role(port.name, width) if direction == "input" else "data"))
    if not any(p.direction == "output" for p in ports):
        raise InterfaceError(f"module {chosen[0].name!r} has no output ports to compare")
    return ModuleInterface(chosen[0].name, tuple(ports))
