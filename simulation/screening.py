"""Refuse untrusted Verilog that could touch the host before it reaches the simulator.

Model-generated code is untrusted (DESIGN section 9).  Icarus Verilog gives
source code file I/O (`$fopen`, `$fwrite`, `$readmemh`, `$dumpfile` ...), and
`` `include`` reads arbitrary files at compile time, so we screen candidate
text with the pyslang *lexer* rather than with regular expressions: a
`"$fopen"` inside a string or a `// $system` comment is not a system-task token
and must not cause a false refusal, while `$fopen` written anywhere as code
(including in a macro body) is one.

The rule is an allow-list: a system identifier is accepted only if it is in
`ALLOWED_SYSTEM_TASKS`, which covers what synthesizable RTL and the VerilogEval
testbenches use (printing, time, random numbers, math and type queries).
Anything else, including any name starting with `$f` or `$dump`, is refused.
The lexer does not run the preprocessor, so `` `include`` is never followed
here; it is refused outright, as is macro token pasting (```` `` ````), which
could otherwise assemble a forbidden system-task name from harmless pieces.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyslang
from pyslang.parsing import Lexer, TokenKind

ALLOWED_SYSTEM_TASKS: frozenset[str] = frozenset(
    {
        # printing to the simulator's stdout (captured and size-limited by the sandbox)
        "$display", "$displayb", "$displayh", "$displayo",
        "$write", "$writeb", "$writeh", "$writeo",
        "$strobe", "$strobeb", "$strobeh", "$strobeo",
        "$monitor", "$monitorb", "$monitorh", "$monitoro", "$monitoron", "$monitoroff",
        "$sformat", "$sformatf", "$swrite", "$swriteb", "$swriteh", "$swriteo",
        "$error", "$warning", "$info", "$fatal",
        # simulation control and time
        "$finish", "$stop", "$time", "$stime", "$realtime",
        "$timeformat", "$printtimescale",
        # random numbers
        "$random", "$urandom", "$urandom_range",
        "$dist_uniform", "$dist_normal", "$dist_exponential", "$dist_poisson",
        "$dist_chi_square", "$dist_t", "$dist_erlang",
        # conversions and type/array queries
        "$signed", "$unsigned", "$bits", "$clog2", "$size", "$dimensions",
        "$unpacked_dimensions", "$left", "$right", "$low", "$high", "$increment",
        "$countones", "$countbits", "$onehot", "$onehot0", "$isunknown",
        "$itor", "$rtoi", "$realtobits", "$bitstoreal", "$shortrealtobits",
        "$bitstoshortreal", "$cast", "$typename",
        # math
        "$ln", "$log10", "$exp", "$sqrt", "$pow", "$floor", "$ceil",
        "$sin", "$cos", "$tan", "$asin", "$acos", "$atan", "$atan2",
        "$hypot", "$sinh", "$cosh", "$tanh", "$asinh", "$acosh", "$atanh",
        "$abs", "$min", "$max",
    }
)
"""System tasks and functions candidate code may use; everything else is refused."""

REFUSED_DIRECTIVES: frozenset[str] = frozenset({"`include"})
"""Compiler directives that read other files; refused in candidate code."""


@dataclass(frozen=True)
class Refusal:
    """Why a piece of code was refused: the offending token and where it is."""

    token: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason} ({self.token})"


def screen(text: str, name: str = "candidate.sv") -> list[Refusal]:
    """Return every refused token in `text` (an empty list means the code may be simulated)."""
    manager = pyslang.SourceManager()
    buffer = manager.assignText(name, text)
    lexer = Lexer(buffer, pyslang.BumpAllocator(), pyslang.Diagnostics(), manager)
    refusals: list[Refusal] = []
    while True:
        token = lexer.lex()
        kind = token.kind
        if kind == TokenKind.EndOfFile:
            return refusals
        reason = None
        if kind == TokenKind.SystemIdentifier and token.valueText not in ALLOWED_SYSTEM_TASKS:
            reason = "system task or function not on the allow-list"
        elif kind == TokenKind.Directive and token.valueText in REFUSED_DIRECTIVES:
            reason = "file inclusion is not allowed"
        elif kind == TokenKind.MacroPaste:
            reason = "macro token pasting is not allowed"
        if reason is not None:
            line = manager.getLineNumber(token.location)
            refusals.append(Refusal(token=token.rawText, line=line, reason=reason))
