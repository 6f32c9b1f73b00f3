"""Splitting a Verilog file into modules, each with the comment block that documents it.

The raw pyslang lexer is used rather than a parse: it sees `module ... endmodule` even when the file
includes headers we do not have or uses macros defined elsewhere (the preprocessor would drop or
mangle such code), and it streams through multi-megabyte generated files token by token. Whether each
module parses on its own is a later stage (`corpus.syntax`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

import pyslang
from pyslang.parsing import Lexer, Token, TokenKind, TriviaKind

from verifrag.syntax.source import OffsetMap, sanitize
from verifrag.training.corpus.sources import SourceFile

_MODULE_KEYWORDS = {TokenKind.ModuleKeyword, TokenKind.MacromoduleKeyword}
_COMMENTS = {TriviaKind.LineComment, TriviaKind.BlockComment}
_LAYOUT = {TriviaKind.Whitespace, TriviaKind.EndOfLine}
# Compiler directives proper; any other backtick name inside a module is a macro use.
_DIRECTIVES = frozenset(
    "`" + name
    for name in (
        "ifdef ifndef else elsif endif define undef undefineall include timescale default_nettype "
        "resetall celldefine endcelldefine line __FILE__ __LINE__ pragma unconnected_drive "
        "nounconnected_drive begin_keywords end_keywords protect endprotect"
    ).split()
)


@dataclass(frozen=True)
class ModuleUnit:
    """One module cut out of a file, with what the later stages need to judge it."""

    source: str
    file: str
    name: str
    text: str  # header comment + code: the plain completion sample
    code: str  # from `module` to `endmodule`
    header_comment: str
    interface: str  # from `module` to the `;` that ends its port list
    complete: bool  # False when the file ended before `endmodule`
    body_tokens: int  # lexer tokens between the interface and `endmodule`
    includes: tuple[str, ...]  # `include targets earlier in the file (context the module may rely on)
    defines: tuple[str, ...]  # `define names earlier in the file
    macros: tuple[str, ...]  # macros the module uses
    spec: str | None
    license: str


def _nbytes(text: str) -> int:
    return len(text.encode("utf-8"))


def _header_comment_bytes(token: Token) -> int:
    """Bytes of leading trivia that form the module's header comment.

    The header comment is the run of comments directly above `module`: no blank line between them or
    between the last one and `module`, so a licence block separated by a blank line stays out.
    """
    pieces = list(token.trivia)
    keep = len(pieces)
    newlines = 0
    for index in range(len(pieces) - 1, -1, -1):
        kind = pieces[index].kind
        if kind == TriviaKind.EndOfLine:
            newlines += 1
            if newlines >= 2:
                break
        elif kind in _COMMENTS:
            keep, newlines = index, 0
        elif kind not in _LAYOUT:
            break
    return sum(_nbytes(pieces[i].getRawText()) for i in range(keep, len(pieces)))


@dataclass
class _Open:
    """A module being read: byte offsets and counters filled in as its tokens go by."""

    header_start: int
    start: int
    name: str | None = None
    interface_end: int | None = None
    parens: int = 0
    body_tokens: int = 0
    macros: set[str] = field(default_factory=set)


class _Splitter:
    """Consumes lexer tokens of one file and yields a unit at each outermost `endmodule` (or the end)."""

    def __init__(self, file: SourceFile, text: str) -> None:
        self._file = file
        self._text = text
        self._offsets = OffsetMap(text)
        self._depth = 0
        self._open: _Open | None = None
        self._includes: list[str] = []
        self._defines: list[str] = []
        self._pending_directive: str | None = None

    def feed(self, token: Token) -> ModuleUnit | None:
        raw = token.rawText
        start = token.location.offset
        pending, self._pending_directive = self._pending_directive, None
        if pending == "`include" and token.kind == TokenKind.StringLiteral:
            self._includes.append(raw.strip('"<>'))
        elif pending == "`define":
            self._defines.append(raw)
        if token.kind == TokenKind.Directive and raw in ("`include", "`define"):
            self._pending_directive = raw
        if token.kind in _MODULE_KEYWORDS:
            if self._depth == 0:
                self._open = _Open(header_start=start - _header_comment_bytes(token), start=start)
            self._depth += 1
            return None
        unit = self._open
        if unit is None:
            return None
        if token.kind == TokenKind.EndModuleKeyword:
            self._depth -= 1
            return self._close(start + _nbytes(raw), complete=True) if self._depth == 0 else None
        if token.kind == TokenKind.EndOfFile:
            return self._close(start, complete=False)
        if token.kind == TokenKind.Directive and raw not in _DIRECTIVES:
            unit.macros.add(raw[1:])
        if unit.name is None and token.kind in (TokenKind.Identifier, TokenKind.Directive):
            unit.name = raw
        if unit.interface_end is None:
            unit.parens += raw in ("(", "[", "{", "'{") or 0
            unit.parens -= raw in (")", "]", "}") or 0
            if raw == ";" and unit.parens <= 0:
                unit.interface_end = start + 1
        else:
            unit.body_tokens += 1
        return None

    def _close(self, end: int, complete: bool) -> ModuleUnit:
        unit = self._open
        assert unit is not None
        self._open, self._depth = None, 0
        char = self._offsets.to_char
        header_start, start, end_char = char(unit.header_start), char(unit.start), char(end)
        interface_end = char(unit.interface_end) if unit.interface_end is not None else end_char
        return ModuleUnit(
            source=self._file.source,
            file=self._file.path,
            name=unit.name or "anonymous",
            text=self._text[header_start:end_char],
            code=self._text[start:end_char],
            header_comment=self._text[header_start:start].strip(),
            interface=self._text[start:interface_end],
            complete=complete,
            body_tokens=unit.body_tokens,
            includes=tuple(dict.fromkeys(self._includes)),
            defines=tuple(dict.fromkeys(self._defines)),
            macros=tuple(sorted(unit.macros)),
            spec=self._file.spec,
            license=self._file.license,
        )


def split_modules(file: SourceFile) -> Iterator[ModuleUnit]:
    """The modules of one file in order; a module the file leaves open comes out with complete=False."""
    text = sanitize(file.text).replace("\0", " ")
    manager = pyslang.SourceManager()
    buffer = manager.assignText(file.path or "corpus.v", text)
    lexer = Lexer(buffer, pyslang.BumpAllocator(), pyslang.Diagnostics(), manager)
    splitter = _Splitter(file, text)
    while True:
        token = lexer.lex()
        unit = splitter.feed(token)
        if unit is not None:
            yield unit
        if token.kind == TokenKind.EndOfFile:
            return
