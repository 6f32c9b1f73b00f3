"""Split Verilog text into tokens the way Icarus Verilog's lexer does, for screening.

Screening must see the same tokens as the simulator, or an attacker hides code
in the gap (issue 13: pyslang reads `\\$fopen` as an ordinary escaped name and
a `\"\"\"` line as the start of a multi-line string, iverilog does neither).
So this follows iverilog 11's `lexor.lex` rules rather than the SystemVerilog
standard, and where the two could disagree it errs towards showing more code:

- `//` comments end at the newline, `/* */` comments at the first `*/`;
- a string ends at an unescaped `"` or at the end of its line (iverilog
  reports a missing close quote there and carries on lexing code), so a
  string can never swallow the lines after it;
- `\\name` is an escaped identifier that runs to the next white space, and
  its name is the text after the backslash (`\\$fopen ` names `$fopen`);
- `$name` is a system name (`$` may continue an identifier: `a$b` is one
  plain identifier, `$value$plusargs` one system name);
- numbers are lexed whole (`1.5`, `4'b10_1x`, `1e3`) so their dots and
  letters are not mistaken for names.

Only what screening needs is distinguished: names, system names, directives,
strings, numbers, macro pasting (``` `` ```) and single punctuation
characters (plus `::`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<line_comment>//[^\n]*)
  | (?P<block_comment>/\*.*?(?:\*/|\Z))
  | (?P<string>"(?:\\[^\n]|[^"\\\n])*(?:"|(?=\n)|\Z|\\(?=\n)))
  | (?P<escaped>\\\S+)
  | (?P<system>\$[A-Za-z0-9_$]+)
  | (?P<paste>``)
  | (?P<directive>`[A-Za-z_][A-Za-z0-9_$]*)
  | (?P<number>(?:\d[\d_]*)?'[sS]?[bBoOdDhH]\s*[0-9a-fA-FxXzZ?_]+|'[01xXzZ]|\d[\d_]*(?:\.\d[\d_]*)?(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_$]*)
  | (?P<scope>::)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)

SKIPPED = frozenset({"space", "line_comment", "block_comment"})


@dataclass(frozen=True)
class Token:
    """One significant token: its kind (a group name of `_TOKEN`), its text, and its 1-based line."""

    kind: str
    text: str
    line: int

    @property
    def name(self) -> str | None:
        """The identifier this token names (`\\$fopen` names `$fopen`), or None for non-names."""
        if self.kind in ("name", "system"):
            return self.text
        if self.kind == "escaped":
            return self.text[1:]
        return None


def tokens(text: str) -> list[Token]:
    """Every significant token of `text`, comments and white space dropped."""
    found = []
    line = 1
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "other"
        if kind not in SKIPPED:
            found.append(Token(kind, match.group(), line))
        line += match.group().count("\n")
    return found
