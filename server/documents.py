"""Positions in editor text: LSP lines and UTF-16 columns to str offsets and back, and indentation.

LSP breaks lines only at `\\n`, `\\r\\n` and `\\r` and counts columns in UTF-16 code units. Python's
`splitlines` also breaks at form feeds, `\\x1c`-`\\x1e`, NEL and U+2028, which random or pasted text can
contain, so positions are computed here rather than with `str.splitlines`. Positions past the end of a
line or of the text are clamped: clients send them, and an answer at the nearest valid place is better
than an error.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True)
class Lines:
    """Line start offsets of one text, built once per request."""

    text: str
    starts: tuple[int, ...]

    @classmethod
    def of(cls, text: str) -> "Lines":
        return cls(text, (0, *(match.end() for match in _LINE_BREAK.finditer(text))))

    def line_text(self, line: int) -> str:
        """Line `line` without its line break ('' past the end)."""
        if line >= len(self.starts):
            return ""
        start = self.starts[line]
        end = self.starts[line + 1] if line + 1 < len(self.starts) else len(self.text)
        return self.text[start:end].rstrip("\r\n")

    def offset(self, line: int, character: int) -> int:
        """Str offset of an LSP position (UTF-16 column), clamped to the text."""
        if line < 0:
            return 0
        if line >= len(self.starts):
            return len(self.text)
        content = self.line_text(line)
        units = 0
        for index, char in enumerate(content):
            if units >= character:
                return self.starts[line] + index
            units += 2 if ord(char) > 0xFFFF else 1
        return self.starts[line] + len(content)

    def position(self, offset: int) -> tuple[int, int]:
        """LSP (line, UTF-16 column) of a str offset."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self.starts, offset) - 1
        return line, _utf16_length(self.text[self.starts[line] : offset])

    @property
    def end(self) -> tuple[int, int]:
        return self.position(len(self.text))


def indent_unit(text: str) -> str:
    """The file's indentation step: a tab if lines are indented with tabs, else the most common
    smallest space indent (2 when nothing is indented)."""
    tabs = spaces = 0
    widths: dict[int, int] = {}
    previous = 0
    for line in text.splitlines()[:2000]:
        stripped = line.lstrip(" \t")
        if not stripped:
            continue
        indent = line[: len(line) - len(stripped)]
        if indent.startswith("\t"):
            tabs += 1
        elif indent:
            spaces += 1
            step = abs(len(indent) - previous)
            if step:
                widths[step] = widths.get(step, 0) + 1
        previous = len(indent) if not indent.startswith("\t") else previous
    if tabs > spaces:
        return "\t"
    return " " * (max(widths, key=lambda w: (widths[w], -w)) if widths else 2)
