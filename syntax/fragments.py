"""Significant tokens and fragment boundaries of any Verilog text, complete, partial or broken.

A *fragment* is one significant token as the pyslang lexer sees it (keyword, identifier, system or
escaped identifier, number, string, operator, directive or macro usage), except that a sized or based
literal (`4'b1010`, `'hFF`) is one fragment although the lexer returns up to three tokens. Whitespace
and comments are not fragments: they belong to the boundary between two fragments.

An offset is a *boundary* when no fragment spans across it. Where the text ends, whether its last
fragment is finished cannot be seen from the text alone (`pos` may become `posedge`); `is_complete`
decides that by the rule documented on it. At inference the decoder knows what comes next, so it asks
`inside_fragment` on text that already includes the next token.

The raw lexer is used, not the parser: it never expands macros, never gives up on broken code, and is
fast enough to run on every decoding step.
"""

from __future__ import annotations

import bisect
import enum
import functools
from dataclasses import dataclass
from typing import Sequence

import pyslang
from pyslang.parsing import Lexer, TokenKind, TriviaKind

from verifrag.syntax.source import OffsetMap, sanitize


class FragmentKind(str, enum.Enum):
    KEYWORD = "keyword"
    IDENTIFIER = "identifier"
    SYSTEM_IDENTIFIER = "system_identifier"
    NUMBER = "number"
    STRING = "string"
    OPERATOR = "operator"
    DIRECTIVE = "directive"
    OTHER = "other"


@dataclass(frozen=True)
class Fragment:
    """One significant token (or merged sized literal); `start`/`end` are str offsets, end exclusive."""

    kind: FragmentKind
    text: str
    start: int
    end: int
    followed_by_trivia: bool  # whitespace or a comment follows before the next fragment or the end


_NUMBER_KINDS = {
    TokenKind.IntegerLiteral,
    TokenKind.RealLiteral,
    TokenKind.TimeLiteral,
    TokenKind.UnbasedUnsizedLiteral,
    TokenKind.IntegerBase,
}
_IDENTIFIER_KINDS = {TokenKind.Identifier}
_SYSTEM_KINDS = {TokenKind.SystemIdentifier}
_DIRECTIVE_KINDS = {TokenKind.Directive, TokenKind.MacroUsage}


def _classify(kind: TokenKind) -> FragmentKind:
    if kind in _NUMBER_KINDS:
        return FragmentKind.NUMBER
    if kind in _IDENTIFIER_KINDS:
        return FragmentKind.IDENTIFIER
    if kind in _SYSTEM_KINDS:
        return FragmentKind.SYSTEM_IDENTIFIER
    if kind == TokenKind.StringLiteral:
        return FragmentKind.STRING
    if kind in _DIRECTIVE_KINDS:
        return FragmentKind.DIRECTIVE
    if kind.name.endswith("Keyword"):
        return FragmentKind.KEYWORD
    if kind == TokenKind.Unknown:
        return FragmentKind.OTHER
    return FragmentKind.OPERATOR


@dataclass
class _RawToken:
    kind: TokenKind
    raw: str
    start: int  # byte offset
    end: int  # byte offset
    trivia_before: bool


def _lex(text: str) -> tuple[list[_RawToken], int | None]:
    """All lexer tokens of `text` with byte offsets (end-of-file token included), and the byte offset
    of an unterminated block comment at the end, if there is one.

    NUL ends a slang buffer, so NULs are lexed as spaces (same length: offsets are unchanged).
    """
    manager = pyslang.SourceManager()
    buffer = manager.assignText("fragment.v", text.replace("\0", " "))
    lexer = Lexer(buffer, pyslang.BumpAllocator(), pyslang.Diagnostics(), manager)
    tokens: list[_RawToken] = []
    while True:
        token = lexer.lex()
        raw = token.rawText
        start = token.location.offset
        tokens.append(_RawToken(token.kind, raw, start, start + len(raw.encode("utf-8")), bool(token.trivia)))
        if token.kind == TokenKind.EndOfFile:
            return tokens, _open_comment_start(token)


def _open_comment_start(end_of_file: "pyslang.parsing.Token") -> int | None:
    """Byte offset of a block comment left open at the end of the text (it sits in the EOF token's trivia)."""
    pieces = [piece.getRawText() for piece in end_of_file.trivia]
    offset = end_of_file.location.offset - sum(len(p.encode("utf-8")) for p in pieces)
    for piece, trivia in zip(pieces, end_of_file.trivia):
        if trivia.kind == TriviaKind.BlockComment and (len(piece) < 4 or not piece.endswith("*/")):
            return offset
        offset += len(piece.encode("utf-8"))
    return None


_BASED_DIGITS = frozenset("0123456789abcdefABCDEFxXzZ?_")


def _is_based_value(token: _RawToken) -> bool:
    """The digits after `'h` lex as an integer or, with letters in them, as an identifier."""
    return token.kind in (TokenKind.IntegerLiteral, TokenKind.Identifier) and set(token.raw) <= _BASED_DIGITS


def _merge_sized_literals(tokens: list[_RawToken]) -> list[tuple[list[_RawToken], bool]]:
    """Group lexer tokens into fragments: `size 'base value` become one; returns (parts, trivia_after)."""
    groups: list[list[_RawToken]] = []
    for token in tokens:
        previous = groups[-1][-1] if groups else None
        joins = previous is not None and (
            (token.kind == TokenKind.IntegerBase and previous.kind == TokenKind.IntegerLiteral)
            or (previous.kind == TokenKind.IntegerBase and _is_based_value(token))
        )
        if joins and not (token.kind == TokenKind.IntegerBase and len(groups[-1]) > 1):
            groups[-1].append(token)
        else:
            groups.append([token])
    result = []
    for index, group in enumerate(groups):
        following = groups[index + 1][0] if index + 1 < len(groups) else None
        trivia_after = following is not None and (following.trivia_before or following.start > group[-1].end)
        result.append((group, trivia_after))
    return result


@dataclass(frozen=True)
class Analysis:
    """The fragments of one text, and where an unterminated block comment at its end starts."""

    text: str
    fragments: tuple[Fragment, ...]
    open_comment_start: int | None


@functools.lru_cache(maxsize=16)
def analyse(text: str) -> Analysis:
    """Fragments of `text` in order. Cached: the decoder asks about the same text several times."""
    text = sanitize(text)
    offsets = OffsetMap(text)
    tokens, open_comment = _lex(text)
    result: list[Fragment] = []
    for group, trivia_after in _merge_sized_literals(tokens):
        first, last = group[0], group[-1]
        if first.kind == TokenKind.EndOfFile:
            break
        kind = FragmentKind.NUMBER if len(group) > 1 else _classify(first.kind)
        start, end = offsets.to_char(first.start), offsets.to_char(last.end)
        result.append(Fragment(kind, text[start:end], start, end, trivia_after))
    return Analysis(text, tuple(result), None if open_comment is None else offsets.to_char(open_comment))


def fragments(text: str) -> tuple[Fragment, ...]:
    """The fragments of `text` in order."""
    return analyse(text).fragments


@functools.lru_cache(maxsize=None)
def _operator_extends(operator: str) -> bool:
    """Whether one more character can turn `operator` into a longer operator (`<` into `<=`)."""
    for char in "=<>!&|^~*+-/%:?#@.'{}()[]":
        candidate = operator + char
        lexed = [t for t in _lex(candidate)[0] if t.kind != TokenKind.EndOfFile]
        if len(lexed) == 1 and lexed[0].raw == candidate:
            return True
    return False


def _finished_at_end(fragment: Fragment) -> bool:
    """Whether a fragment that ends exactly where the text ends is finished.

    The rule (the text shows nothing after it): keywords are finished (`always @(posedge`); an operator
    is finished unless a longer operator starts with it; a string is finished once closed; identifiers,
    numbers, directives and macro names are not, since more characters could belong to them.
    """
    if fragment.kind == FragmentKind.KEYWORD:
        return True
    if fragment.kind == FragmentKind.OPERATOR:
        return not _operator_extends(fragment.text)
    if fragment.kind == FragmentKind.STRING:
        return len(fragment.text) >= 2 and fragment.text.endswith('"') and not fragment.text.endswith('\\"')
    return False


def is_complete(text: str) -> bool:
    """Whether `text` ends on a fragment boundary (see `_finished_at_end` for the last fragment)."""
    analysis = analyse(text)
    if analysis.open_comment_start is not None:
        return False
    if not analysis.fragments:
        return True
    last = analysis.fragments[-1]
    if last.end < len(analysis.text) or last.followed_by_trivia:
        return True
    return _finished_at_end(last)


def complete_prefix(text: str) -> str:
    """The longest prefix of `text` that ends on a fragment boundary."""
    if is_complete(text):
        return text
    analysis = analyse(text)
    if analysis.open_comment_start is not None:
        return text[: analysis.open_comment_start]
    return text[: analysis.fragments[-1].start]


def boundaries(text: str) -> list[int]:
    """Offsets where a fragment ends; the text's end is included only if `is_complete(text)`."""
    frags = fragments(text)
    ends = [f.end for f in frags]
    if frags and not is_complete(text) and ends[-1] == len(text):
        ends.pop()
    return ends


class FragmentIndex:
    """Answers "does `offset` fall strictly inside a fragment?" for one text, in O(log n) per query."""

    def __init__(self, text: str) -> None:
        self._frags = fragments(text)
        self._starts = [f.start for f in self._frags]

    def inside_fragment(self, offset: int) -> bool:
        i = bisect.bisect_left(self._starts, offset) - 1
        return i >= 0 and self._frags[i].start < offset < self._frags[i].end


def boundary_mask(text: str, token_ends: Sequence[int]) -> list[bool]:
    """For each tokenizer token (given by its end offset in `text`), whether the text up to it is complete.

    This maps fragment boundaries onto a tokenizer's tokens: training uses it to ignore targets that
    would leave a fragment half-written, and to place `[FRAG]` tokens. The text is taken as a whole
    file: a token ending at its very end is judged by `is_complete`.
    """
    index = FragmentIndex(text)
    return [is_complete(text) if end >= len(text) else not index.inside_fragment(end) for end in token_ends]
