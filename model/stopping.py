"""When to stop generating: end of sequence, the `endmodule` that closes the module being written, a
repetition loop, or a rule the caller gives (inline completion ends at the end of a statement or line).

Rules look at text, and both decoders ask them after every single token, so a speculative decoder stops
at exactly the token a next-token decoder would.
"""

from __future__ import annotations

from typing import Callable, Optional

from verifrag.syntax.fragments import FragmentKind, fragments

StopRule = Callable[[str], Optional[int]]  # generated text -> offset to cut the text at, or None


def open_modules(text: str) -> int:
    """How many `module` declarations in `text` lack their `endmodule`."""
    count = 0
    for fragment in fragments(text):
        if fragment.kind == FragmentKind.KEYWORD:
            if fragment.text in ("module", "macromodule"):
                count += 1
            elif fragment.text == "endmodule":
                count -= 1
    return count


def endmodule_rule(prompt_text: str) -> StopRule:
    """Fires at the `endmodule` that closes every module open in prompt plus generated text. In a chat
    prompt the code starts after the last Markdown fence: the specification before it is prose, whose
    "a module named TopModule" would otherwise count as an open module and the rule would never fire."""
    fence = prompt_text.rfind("```")
    already_open = open_modules(prompt_text[fence + 3 :] if fence >= 0 else prompt_text)

    def rule(generated: str) -> int | None:
        depth = already_open
        for fragment in fragments(generated):
            if fragment.kind != FragmentKind.KEYWORD:
                continue
            if fragment.text in ("module", "macromodule"):
                depth += 1
            elif fragment.text == "endmodule":
                depth -= 1
                if depth <= 0:
                    return fragment.end
        return None

    return rule


LOOP_LINES = 4  # the same non-blank line this many times in a row is a loop
LOOP_CHARS = 100  # ... and so is a unit of at most LOOP_UNIT characters repeated over this many
LOOP_UNIT = 8


def repetition(generated: str) -> int | None:
    """Fires when generation has fallen into a loop, which a small greedy model does (a comment of
    endless zeros, one `assign` written over and over) and which would otherwise run to the token limit.
    Cuts after the loop's first line, or before a run of one repeated short unit; `syntax.closing`
    then closes what the module left open."""
    tail_start = max(0, len(generated) - (LOOP_CHARS + 400))
    tail = generated[tail_start:]
    if len(tail) >= LOOP_CHARS:
        run = tail[-LOOP_CHARS:]
        for unit in range(1, LOOP_UNIT + 1):
            if run == (run[:unit] * (LOOP_CHARS // unit + 1))[:LOOP_CHARS]:
                return len(generated) - LOOP_CHARS
    lines = tail.split("\n")[:-1]  # whole lines only: the last piece may still grow
    if len(lines) >= LOOP_LINES and lines[-1].strip() and len(set(lines[-LOOP_LINES:])) == 1:
        whole = sum(len(line) + 1 for line in lines)
        return tail_start + whole - (LOOP_LINES - 1) * (len(lines[-1]) + 1) - 1
    return None


def end_of_line(generated: str) -> int | None:
    """Fires at the first line break that follows some non-blank generated text."""
    stripped = generated.lstrip("\n")
    newline = stripped.find("\n")
    if newline < 0 or not stripped[:newline].strip():
        return None
    return len(generated) - len(stripped) + newline


def end_of_statement(generated: str) -> int | None:
    """Fires after the first `;` at bracket depth 0, or after a block-closing keyword, or at a line end."""
    depth = 0
    for fragment in fragments(generated):
        if fragment.text in ("(", "[", "{"):
            depth += 1
        elif fragment.text in (")", "]", "}"):
            depth -= 1
        elif fragment.text == ";" and depth <= 0:
            return fragment.end
        elif fragment.kind == FragmentKind.KEYWORD and fragment.text.startswith("end") and depth <= 0:
            if fragment.end < len(generated):  # `end` may still grow into `endcase`
                return fragment.end
    return end_of_line(generated)


NAMED_RULES: dict[str, StopRule] = {"line": end_of_line, "statement": end_of_statement}
