"""Closing a module that generation left unfinished.

A small model sometimes runs out of tokens, or is stopped in a repetition loop, before it writes
`endmodule`. The text up to then is often good Verilog: a header and some whole statements. Handing the
designer (or a testbench) an unterminated module wastes that. `close_module` cuts the text back to the
end of its last whole statement or block keyword and writes the keywords that close every block still
open (`end`, `endcase`, `endfunction`, ..., `endmodule`), so the answer parses. Text that already closes
every module it opens is returned unchanged.

Only the lexer's fragments are used (no parser), so broken text never makes this fail; what it returns is
not guaranteed to parse (a broken statement before the cut stays broken), only to be closed.
"""

from __future__ import annotations

from verifrag.syntax.fragments import FragmentKind, fragments

# Block-opening keyword -> the keyword that closes it.
CLOSERS = {
    "module": "endmodule",
    "macromodule": "endmodule",
    "begin": "end",
    "case": "endcase",
    "casez": "endcase",
    "casex": "endcase",
    "function": "endfunction",
    "task": "endtask",
    "generate": "endgenerate",
    "fork": "join",
}
_ENDS = {"endmodule", "end", "endcase", "endfunction", "endtask", "endgenerate", "join", "join_any", "join_none"}


def close_module(text: str) -> str:
    """`text` cut after its last whole statement and closed, or unchanged when nothing is left open (or
    nothing whole follows the `module` keyword)."""
    stack: list[str] = []  # open block keywords, innermost last
    cut, open_at_cut = 0, []  # the last safe cut: offset, and the blocks open there
    depth = 0  # bracket depth: a `;` inside `for (...; ...)` ends no statement
    for fragment in fragments(text):
        word, keyword = fragment.text, fragment.kind == FragmentKind.KEYWORD
        if fragment.kind == FragmentKind.OPERATOR and word in ("(", "[", "{"):
            depth += 1
        elif fragment.kind == FragmentKind.OPERATOR and word in (")", "]", "}"):
            depth = max(0, depth - 1)
        elif keyword and word in CLOSERS:
            stack.append(word)
        elif keyword and word in _ENDS and stack:
            stack.pop()
        if depth == 0 and (word == ";" or (keyword and (word in _ENDS or word == "begin"))):
            cut, open_at_cut = fragment.end, list(stack)
    modules = ("module", "macromodule")
    if not any(word in modules for word in stack) or not any(word in modules for word in open_at_cut):
        return text
    closers = [CLOSERS[word] for word in reversed(open_at_cut)]
    lines = [text[:cut].rstrip()]
    lines += ["    " * level + word for level, word in zip(range(len(closers) - 1, -1, -1), closers)]
    return "\n".join(lines) + "\n"
