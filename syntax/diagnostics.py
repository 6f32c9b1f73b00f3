"""pyslang diagnostics as plain records an editor can show.

Positions are 0-based lines and UTF-16 columns (what LSP speaks), computed here once from the text so
the server never touches pyslang objects. Parse diagnostics come from one syntax tree and are cheap
enough to run on every keystroke; semantic diagnostics elaborate a `Compilation` over several documents
(plus include and library directories) and belong to open and save.
"""

from __future__ import annotations

import bisect
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

import pyslang
from pyslang import ast, syntax

from verifrag.syntax.source import OffsetMap, sanitize

VERILOG_SUFFIXES = (".v", ".vh", ".sv", ".svh")


@dataclass(frozen=True)
class Diagnostic:
    line: int
    column: int  # UTF-16 code units, as LSP counts them
    end_line: int
    end_column: int
    severity: str  # "error", "warning", "note" or "ignored"
    code: str  # slang's diagnostic name, e.g. "ExpectedExpression"
    message: str


class _Positions:
    """Byte offsets of one text to (line, UTF-16 column)."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._offsets = OffsetMap(text)
        self._line_starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]

    def at(self, byte_offset: int) -> tuple[int, int]:
        char = min(self._offsets.to_char(byte_offset), len(self._text))
        line = bisect.bisect_right(self._line_starts, char) - 1
        prefix = self._text[self._line_starts[line] : char]
        return line, len(prefix.encode("utf-16-le")) // 2

    def word_end(self, byte_offset: int) -> tuple[int, int]:
        """End of the token starting at `byte_offset`, so a squiggle covers a word rather than one column."""
        char = min(self._offsets.to_char(byte_offset), len(self._text))
        end = char
        while end < len(self._text) and (self._text[end].isalnum() or self._text[end] in "_$"):
            end += 1
        if end == char and end < len(self._text) and self._text[end] != "\n":
            end += 1
        line = bisect.bisect_right(self._line_starts, char) - 1
        prefix = self._text[self._line_starts[line] : end]
        return line, len(prefix.encode("utf-16-le")) // 2


def _severity(engine: pyslang.DiagnosticEngine, diag: pyslang.Diagnostic) -> str:
    name = engine.getSeverity(diag.code, diag.location).name.lower()
    return "error" if name == "fatal" else name


def _code_name(code: pyslang.DiagCode) -> str:
    text = str(code)
    return text[len("DiagCode(") : -1] if text.startswith("DiagCode(") else text


def _records(
    diags: Iterable[pyslang.Diagnostic],
    manager: pyslang.SourceManager,
    positions_by_buffer: Mapping[int, _Positions],
) -> dict[int, list[Diagnostic]]:
    """Convert diagnostics whose (macro-unwound) location lies in one of the given buffers."""
    engine = pyslang.DiagnosticEngine(manager)
    found: dict[int, list[Diagnostic]] = {buffer: [] for buffer in positions_by_buffer}
    for diag in diags:
        location = manager.getFullyOriginalLoc(diag.location)
        positions = positions_by_buffer.get(location.buffer.id)
        if positions is None:
            continue
        severity = _severity(engine, diag)
        if severity == "ignored":
            continue
        line, column = positions.at(location.offset)
        end_line, end_column = positions.word_end(location.offset)
        record = Diagnostic(line, column, end_line, end_column, severity, _code_name(diag.code), engine.formatMessage(diag))
        if record not in found[location.buffer.id]:
            found[location.buffer.id].append(record)
    return found


# slang gives up (RuntimeError) on pathologically deep nesting, e.g. thousands of nested begin/end.
UNPARSABLE = Diagnostic(0, 0, 0, 1, "error", "Unparsable", "pyslang cannot parse this text (nesting too deep)")


def parse_diagnostics(text: str, name: str = "buffer.v") -> list[Diagnostic]:
    """Syntax errors of one text, as records. Never raises on any input text."""
    text = sanitize(text).replace("\0", " ")
    manager = pyslang.SourceManager()
    try:
        tree = syntax.SyntaxTree.fromText(text, manager, name)
    except RuntimeError:
        return [UNPARSABLE]
    buffer = tree.root.sourceRange.start.buffer.id if tree.root is not None else None
    if buffer is None:
        return []
    return _records(tree.diagnostics, manager, {buffer: _Positions(text)})[buffer]


def library_files(directories: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Verilog source files under the given directories, sorted so results are reproducible."""
    files: list[Path] = []
    for directory in directories:
        root = Path(directory)
        if root.is_dir():
            files.extend(p for p in root.rglob("*") if p.suffix in VERILOG_SUFFIXES and p.is_file())
    return sorted(files)


def semantic_diagnostics(
    documents: Mapping[str, str],
    include_dirs: Iterable[str] = (),
    library_dirs: Iterable[str] = (),
) -> dict[str, list[Diagnostic]]:
    """Elaborate the documents together (plus library files) and return each document's diagnostics.

    `documents` maps a name (the server uses URIs) to its text. Library files only resolve module
    references; their own diagnostics are not reported.
    """
    manager = pyslang.SourceManager()
    for directory in include_dirs:
        if Path(directory).is_dir():  # pyslang raises FileNotFoundError on a missing one
            manager.addUserDirectories(str(directory))
    compilation = ast.Compilation()
    positions: dict[int, _Positions] = {}
    buffer_names: dict[int, str] = {}
    documents = {name: sanitize(text).replace("\0", " ") for name, text in documents.items()}
    unparsable: list[str] = []
    for name, text in documents.items():
        try:
            tree = syntax.SyntaxTree.fromText(text, manager, name)
        except RuntimeError:
            unparsable.append(name)
            continue
        buffer = tree.root.sourceRange.start.buffer.id
        positions[buffer], buffer_names[buffer] = _Positions(text), name
        compilation.addSyntaxTree(tree)
    open_paths = {str(Path(n).resolve()) for n in documents if not n.startswith(("file:", "untitled:"))}
    for path in library_files(library_dirs):
        if str(path.resolve()) not in open_paths:
            compilation.addSyntaxTree(syntax.SyntaxTree.fromText(path.read_text(errors="replace"), manager, path.name))
    by_buffer = _records(compilation.getAllDiagnostics(), manager, positions)
    result = {buffer_names[buffer]: records for buffer, records in by_buffer.items()}
    result.update({name: [UNPARSABLE] for name in unparsable})
    return result
