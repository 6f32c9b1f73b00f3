"""Rename the modules a file defines, so candidate and reference elaborate side by side.

Candidate and reference usually share module names (both `TopModule`, or the
same helper submodule), and one iverilog run must see both.  Renaming works on
pyslang lexer tokens, not text search, so a module name that happens to appear
inside a string or comment is left alone while every declaration and
instantiation of it is renamed consistently.
"""

from __future__ import annotations

from typing import NamedTuple

import pyslang
from pyslang.parsing import Lexer, TokenKind

_MODULE_KEYWORDS = (TokenKind.ModuleKeyword, TokenKind.MacromoduleKeyword)


class _Tok(NamedTuple):
    """A lexer token copied out of pyslang (its memory dies with the lexer's allocator)."""

    kind: TokenKind
    value: str
    raw: str
    offset: int


def _tokens(text: str) -> list[_Tok]:
    """Lex `text` without preprocessing (no include is ever followed)."""
    manager = pyslang.SourceManager()
    buffer = manager.assignText("source.sv", text)
    lexer = Lexer(buffer, pyslang.BumpAllocator(), pyslang.Diagnostics(), manager)
    tokens = []
    while True:
        token = lexer.lex()
        if token.kind == TokenKind.EndOfFile:
            return tokens
        tokens.append(_Tok(token.kind, token.valueText, token.rawText, token.location.offset))


def declared_modules(text: str) -> list[str]:
    """Names of the modules `text` declares, in order of appearance."""
    tokens = _tokens(text)
    names = []
    for index, token in enumerate(tokens[:-1]):
        if token.kind in _MODULE_KEYWORDS:
            following = tokens[index + 1]
            # `module automatic name` / `module static name` carry a lifetime keyword first.
            if following.kind in (TokenKind.AutomaticKeyword, TokenKind.StaticKeyword) and index + 2 < len(tokens):
                following = tokens[index + 2]
            if following.kind == TokenKind.Identifier:
                names.append(following.value)
    return names


def top_modules(text: str) -> list[str]:
    """Declared modules that no other declared module instantiates (by token occurrence)."""
    declared = declared_modules(text)
    counts = {name: 0 for name in declared}
    for token in _tokens(text):
        if token.kind == TokenKind.Identifier and token.value in counts:
            counts[token.value] += 1
    return [name for name in declared if counts[name] == 1]


def rename_modules(text: str, suffix: str) -> tuple[str, dict[str, str]]:
    """Append `suffix` to every module `text` declares; return the new text and old -> new names."""
    mapping = {name: name + suffix for name in declared_modules(text)}
    pieces = []
    cursor = 0
    for token in _tokens(text):
        if token.kind == TokenKind.Identifier and token.value in mapping and not token.raw.startswith("\\"):
            start = token.offset
            pieces.append(text[cursor:start])
            pieces.append(mapping[token.value])
            cursor = start + len(token.raw)
    pieces.append(text[cursor:])
    return "".join(pieces), mapping
