"""Signal dependency graph and per-output-signal code extraction on the pyslang syntax tree.

SALV (DESIGN section 6) trains on the code that implements the *correct*
output signals of a sample and leaves out code that only serves wrong ones.
This module answers "which source lines implement output `y`?" by following
dependencies backwards from each output:

- continuous assignments, net initialisers (`wire t = a & b;`), blocking and
  non-blocking assignments: the left-hand signal depends on every identifier
  on the right and in its own index expressions;
- control: an assignment inside an `if`, `case`, loop or event control also
  depends on the condition, case selector and item labels, loop header and
  sensitivity list around it, and takes those lines with it (the `always`
  line, `begin`/`end`, `if`/`else`, `case`/`endcase` ...);
- submodule instances: outputs of the instance depend on its inputs (port
  directions are read from the submodule when it is defined in the same
  text; otherwise every connection is treated as both), and the submodule's
  whole definition is part of the slice;
- functions and tasks: a call depends on the whole declaration;
- declarations: every signal, parameter or enum constant on the cone brings
  its declaration lines.

Work happens on the syntax tree, not the elaborated design, so it keeps exact
source positions and still works on candidates that do not elaborate.  The
preprocessor never follows `include (the text is untrusted).  This module
imports only pyslang and the standard library because model and training code
use it.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

import pyslang
from pyslang import parsing, syntax
from pyslang.parsing import Token, TokenKind
from pyslang.syntax import SyntaxKind, SyntaxNode

_PROCEDURAL = {
    SyntaxKind.AlwaysBlock, SyntaxKind.AlwaysCombBlock, SyntaxKind.AlwaysFFBlock,
    SyntaxKind.AlwaysLatchBlock, SyntaxKind.InitialBlock, SyntaxKind.FinalBlock,
}
_ASSIGNMENT_EXPRESSIONS = {
    SyntaxKind.AssignmentExpression, SyntaxKind.NonblockingAssignmentExpression,
    SyntaxKind.AddAssignmentExpression, SyntaxKind.SubtractAssignmentExpression,
    SyntaxKind.MultiplyAssignmentExpression, SyntaxKind.DivideAssignmentExpression,
    SyntaxKind.ModAssignmentExpression, SyntaxKind.AndAssignmentExpression,
    SyntaxKind.OrAssignmentExpression, SyntaxKind.XorAssignmentExpression,
    SyntaxKind.LogicalLeftShiftAssignmentExpression, SyntaxKind.LogicalRightShiftAssignmentExpression,
    SyntaxKind.ArithmeticLeftShiftAssignmentExpression, SyntaxKind.ArithmeticRightShiftAssignmentExpression,
}
_MEMBER_KINDS = {
    SyntaxKind.ContinuousAssign, SyntaxKind.HierarchyInstantiation, SyntaxKind.DataDeclaration,
    SyntaxKind.NetDeclaration, SyntaxKind.PortDeclaration, SyntaxKind.ParameterDeclarationStatement,
    SyntaxKind.TypedefDeclaration, SyntaxKind.FunctionDeclaration, SyntaxKind.TaskDeclaration,
    SyntaxKind.GenvarDeclaration, SyntaxKind.NamedBlockClause,
}
_STRUCTURAL_SUFFIXES = ("Statement", "Block", "Generate", "CaseItem", "ElseClause", "GenerateRegion")
_DIRECTIONS = {TokenKind.InputKeyword: "input", TokenKind.OutputKeyword: "output", TokenKind.InOutKeyword: "inout"}


class SignalExtractionError(ValueError):
    """The text has no module to analyse, or the requested module is not in it."""


@dataclass(frozen=True)
class SignalSlice:
    """The code implementing one output (or a selection of outputs).

    `lines` are 1-based line numbers; `spans` are [start, end) character
    offsets of those whole lines (newline included), merged where adjacent, for
    mapping onto a tokenizer's offset mapping.
    """

    signals: tuple[str, ...]
    lines: tuple[int, ...]
    spans: tuple[tuple[int, int], ...]


@dataclass
class SignalGraph:
    """Dependencies between the signals of one module, with the lines behind each."""

    module: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    dependencies: dict[str, set[str]] = field(default_factory=dict)
    driver_lines: dict[str, set[int]] = field(default_factory=dict)
    block_lines: dict[str, set[int]] = field(default_factory=dict)
    declaration_lines: dict[str, set[int]] = field(default_factory=dict)
    frame_lines: set[int] = field(default_factory=set)

    def cone(self, signal: str) -> frozenset[str]:
        """Every name `signal` depends on, transitively, itself included."""
        seen = {signal}
        stack = [signal]
        while stack:
            for name in self.dependencies.get(stack.pop(), ()):
                if name not in seen:
                    seen.add(name)
                    stack.append(name)
        return frozenset(seen)

    def lines_for(self, signal: str) -> frozenset[int]:
        """Statement-level lines implementing `signal`: header, `endmodule`, drivers and declarations on its cone."""
        lines = set(self.frame_lines)
        for name in self.cone(signal):
            lines |= self.driver_lines.get(name, set())
            lines |= self.declaration_lines.get(name, set())
        return frozenset(lines)

    def block_lines_for(self, signal: str) -> frozenset[int]:
        """Like `lines_for`, but with every enclosing always or initial block taken whole."""
        lines = set(self.lines_for(signal))
        for name in self.cone(signal):
            lines |= self.block_lines.get(name, set())
        return frozenset(lines)


@dataclass(frozen=True)
class _Context:
    """What an assignment inherits from the structures around it."""

    reads: frozenset[str] = frozenset()
    lines: frozenset[int] = frozenset()
    block: frozenset[int] = frozenset()


class _LineIndex:
    """Offset -> 1-based line number for one text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]

    def line(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)

    def token_lines(self, tokens: Iterable[Token]) -> set[int]:
        lines = set()
        for token in tokens:
            start = token.location.offset
            first, last = self.line(start), self.line(start + max(len(token.rawText) - 1, 0))
            lines.update(range(first, last + 1))
        return lines

    def spans(self, lines: Iterable[int]) -> tuple[tuple[int, int], ...]:
        merged: list[list[int]] = []
        for line in sorted(set(lines)):
            start = self.starts[line - 1]
            end = self.starts[line] if line < len(self.starts) else len(self.text)
            if merged and merged[-1][1] == start:
                merged[-1][1] = end
            else:
                merged.append([start, end])
        return tuple((a, b) for a, b in merged)


def _parse(text: str) -> syntax.SyntaxTree:
    options = parsing.PreprocessorOptions()
    options.maxIncludeDepth = 0
    return syntax.SyntaxTree.fromText(text, pyslang.SourceManager(), "source.sv", "", pyslang.Bag([options]))


def _children(node: SyntaxNode) -> Iterator[SyntaxNode | Token]:
    for child in node:
        if child is not None:
            yield child


def _is_token(item: object) -> bool:
    return isinstance(item, Token)


def _tokens(item: SyntaxNode | Token) -> Iterator[Token]:
    if _is_token(item):
        if item.rawText:
            yield item
        return
    for child in _children(item):
        yield from _tokens(child)


def _identifiers(item: SyntaxNode | Token | None) -> set[str]:
    """Names read by an expression; member names after `.` and port names in `.p(x)` are not signals."""
    names: set[str] = set()
    if item is None:
        return names
    if _is_token(item):
        if item.kind == TokenKind.Identifier:
            names.add(item.valueText)
        return names
    if item.kind == SyntaxKind.MemberAccessExpression:
        return _identifiers(item.left)
    if item.kind == SyntaxKind.NamedPortConnection:
        return _identifiers(item.expr)
    for child in _children(item):
        names |= _identifiers(child)
    return names


def _targets(lhs: SyntaxNode) -> tuple[set[str], set[str]]:
    """(signals written, signals read in index expressions) of an assignment's left-hand side."""
    if lhs.kind in (SyntaxKind.IdentifierName, SyntaxKind.IdentifierSelectName):
        target = {lhs.identifier.valueText}
        return target, _identifiers(lhs) - target if lhs.kind == SyntaxKind.IdentifierSelectName else set()
    if lhs.kind in (SyntaxKind.ConcatenationExpression, SyntaxKind.ParenthesizedExpression):
        written, read = set(), set()
        for child in _children(lhs):
            if not _is_token(child):
                w, r = _targets(child)
                written |= w
                read |= r
        return written, read
    if lhs.kind == SyntaxKind.MemberAccessExpression:
        return _targets(lhs.left)
    if lhs.kind == SyntaxKind.ElementSelectExpression:
        written, read = _targets(lhs.left)
        return written, read | _identifiers(lhs.select)
    return _identifiers(lhs), set()


def _is_structural(item: SyntaxNode | Token) -> bool:
    if _is_token(item):
        return False
    return item.kind in _MEMBER_KINDS or item.kind in _PROCEDURAL or str(item.kind).endswith(_STRUCTURAL_SUFFIXES)


def _module_declarations(root: SyntaxNode) -> list[SyntaxNode]:
    if root.kind == SyntaxKind.ModuleDeclaration:
        return [root]
    return [m for m in getattr(root, "members", []) if m.kind == SyntaxKind.ModuleDeclaration]


def _port_directions(module: SyntaxNode) -> list[tuple[str, str]]:
    """(name, direction) for each port, in order, from an ANSI header or non-ANSI port declarations."""
    ports: list[tuple[str, str]] = []
    port_list = module.header.ports
    if port_list is not None and port_list.kind == SyntaxKind.AnsiPortList:
        direction = "inout"
        for port in _children(port_list):
            if _is_token(port) or port.kind != SyntaxKind.ImplicitAnsiPort:
                continue
            token = getattr(port.header, "direction", None)
            if token is not None and token.kind in _DIRECTIONS:
                direction = _DIRECTIONS[token.kind]
            ports.append((port.declarator.name.valueText, direction))
        return ports
    declared: dict[str, str] = {}
    for member in module.members:
        if member.kind == SyntaxKind.PortDeclaration:
            direction = _DIRECTIONS.get(member.header.direction.kind, "inout")
            for declarator in _children(member.declarators):
                if not _is_token(declarator):
                    declared[declarator.name.valueText] = direction
    if port_list is not None:
        names = [t.valueText for t in _tokens(port_list) if t.kind == TokenKind.Identifier]
        ports = [(name, declared.get(name, "inout")) for name in dict.fromkeys(names)]
    return ports


class _Builder:
    """Walks one module's members and statements, filling a SignalGraph."""

    def __init__(self, graph: SignalGraph, index: _LineIndex, modules: Mapping[str, SyntaxNode]) -> None:
        self.graph = graph
        self.index = index
        self.modules = modules

    def lines(self, item: SyntaxNode | Token) -> set[int]:
        return self.index.token_lines(_tokens(item))

    def drive(self, targets: Iterable[str], reads: set[str], lines: set[int], context: _Context) -> None:
        for name in targets:
            self.graph.dependencies.setdefault(name, set()).update((reads | context.reads) - {name})
            self.graph.driver_lines.setdefault(name, set()).update(lines | context.lines)
            self.graph.block_lines.setdefault(name, set()).update(context.block)

    def declare(self, names: Iterable[str], lines: set[int]) -> None:
        for name in names:
            self.graph.declaration_lines.setdefault(name, set()).update(lines)

    def visit(self, node: SyntaxNode, context: _Context) -> None:
        kind = node.kind
        if kind == SyntaxKind.ExpressionStatement:
            expr = node.expr
            if expr.kind in _ASSIGNMENT_EXPRESSIONS:
                written, index_reads = _targets(expr.left)
                self.drive(written, index_reads | _identifiers(expr.right), self.lines(node), context)
        elif kind == SyntaxKind.ContinuousAssign:
            lines = self.lines(node)
            for expr in _children(node.assignments):
                if not _is_token(expr) and expr.kind in _ASSIGNMENT_EXPRESSIONS:
                    written, index_reads = _targets(expr.left)
                    self.drive(written, index_reads | _identifiers(expr.right), lines, context)
        elif kind in (SyntaxKind.NetDeclaration, SyntaxKind.DataDeclaration, SyntaxKind.PortDeclaration):
            self.declaration(node, context)
        elif kind == SyntaxKind.ParameterDeclarationStatement:
            self.declaration(node.parameter, context, lines=self.lines(node))
        elif kind == SyntaxKind.HierarchyInstantiation:
            self.instance(node, context)
        elif kind in (SyntaxKind.FunctionDeclaration, SyntaxKind.TaskDeclaration):
            name = node.prototype.name
            lines = self.lines(node)
            self.drive(_identifiers(name), _identifiers(node) - _identifiers(name), lines, context)
        elif kind in _PROCEDURAL and not context.block:
            self.container(node, _Context(context.reads, context.lines, frozenset(self.lines(node))))
        elif any(_is_structural(child) for child in _children(node)):
            self.container(node, context)
        else:
            names = {d.name.valueText for d in self.declarators(node)}
            lines = self.lines(node)
            self.declare(names, lines)
            self.drive(names, _identifiers(node) - names, lines, context)

    def declarators(self, node: SyntaxNode) -> Iterator[SyntaxNode]:
        for child in _children(node):
            if not _is_token(child):
                if child.kind == SyntaxKind.Declarator:
                    yield child
                else:
                    yield from self.declarators(child)

    def declaration(self, node: SyntaxNode, context: _Context, lines: set[int] | None = None) -> None:
        lines = self.lines(node) if lines is None else lines
        declarators = list(self.declarators(node))
        names = {d.name.valueText for d in declarators}
        type_reads = set()
        for child in _children(node):
            if not _is_token(child) and child.kind != SyntaxKind.Declarator:
                type_reads |= _identifiers(child)
        self.declare(names, lines)
        for declarator in declarators:
            name = declarator.name.valueText
            reads = type_reads | _identifiers(declarator) - {name}
            self.graph.dependencies.setdefault(name, set()).update(reads)
            if declarator.initializer is not None:
                self.drive({name}, reads, lines, context)

    def instance(self, node: SyntaxNode, context: _Context) -> None:
        lines = self.lines(node)
        submodule = self.modules.get(node.type.valueText)
        directions: list[tuple[str, str]] = []
        if submodule is not None:
            directions = _port_directions(submodule)
            lines |= self.lines(submodule)
        by_name = dict(directions)
        parameter_reads = _identifiers(node.parameters) if node.parameters is not None else set()
        for hierarchical in _children(node.instances):
            if _is_token(hierarchical):
                continue
            written, read = set(), set(parameter_reads)
            position = 0
            for connection in _children(hierarchical.connections):
                if _is_token(connection):
                    continue
                if connection.kind == SyntaxKind.NamedPortConnection:
                    direction = by_name.get(connection.name.valueText, "inout")
                    names = _identifiers(connection.expr)
                elif connection.kind == SyntaxKind.WildcardPortConnection:
                    for port, direction in directions:
                        (written if direction != "input" else read).add(port)
                        if direction == "inout":
                            read.add(port)
                    continue
                else:
                    direction = directions[position][1] if position < len(directions) else "inout"
                    names = _identifiers(connection)
                    position += 1
                if direction in ("output", "inout"):
                    written |= names
                if direction in ("input", "inout"):
                    read |= names
            self.drive(written, read, lines, context)

    def container(self, node: SyntaxNode, context: _Context) -> None:
        control_tokens: list[Token] = []
        control_reads: set[str] = set()
        nested: list[SyntaxNode] = []
        for child in _children(node):
            if _is_structural(child):
                nested.append(child)
            else:
                control_tokens.extend(_tokens(child))
                control_reads |= _identifiers(child)
        inner = _Context(
            context.reads | control_reads,
            context.lines | frozenset(self.index.token_lines(control_tokens)),
            context.block,
        )
        for child in nested:
            self.visit(child, inner)


def _pick_module(modules: dict[str, SyntaxNode], module: str | None) -> SyntaxNode:
    if not modules:
        raise SignalExtractionError("no module declaration found")
    if module is not None:
        if module not in modules:
            raise SignalExtractionError(f"no module named {module!r} (found: {', '.join(modules)})")
        return modules[module]
    instantiated = set()
    for node in modules.values():
        for member in node.members:
            if member.kind == SyntaxKind.HierarchyInstantiation:
                instantiated.add(member.type.valueText)
    tops = [name for name in modules if name not in instantiated] or list(modules)
    return modules["TopModule"] if "TopModule" in tops else modules[tops[-1]]


def build_signal_graph(text: str, module: str | None = None) -> SignalGraph:
    """Build the dependency graph of `module` (default: the top module of `text`, preferring TopModule)."""
    tree = _parse(text)
    modules = {m.header.name.valueText: m for m in _module_declarations(tree.root)}
    chosen = _pick_module(modules, module)
    index = _LineIndex(text)
    ports = _port_directions(chosen)
    graph = SignalGraph(
        module=chosen.header.name.valueText,
        inputs=tuple(n for n, d in ports if d == "input"),
        outputs=tuple(n for n, d in ports if d in ("output", "inout")),
    )
    header_tokens = list(_tokens(chosen.header))
    graph.frame_lines = index.token_lines(header_tokens) | index.token_lines([chosen.endmodule])
    builder = _Builder(graph, index, modules)
    if chosen.header.parameters is not None:
        for declaration in _children(chosen.header.parameters):
            if not _is_token(declaration) and declaration.kind == SyntaxKind.ParameterDeclaration:
                builder.declaration(declaration, _Context())
    for member in chosen.members:
        builder.visit(member, _Context())
    return graph


def _slice(graph: SignalGraph, index: _LineIndex, signals: tuple[str, ...], lines: Iterable[int]) -> SignalSlice:
    ordered = tuple(sorted(set(lines)))
    return SignalSlice(signals, ordered, index.spans(ordered))


def extract_signal_slices(text: str, module: str | None = None) -> dict[str, SignalSlice]:
    """For each output port of `module`, the lines (and character spans) that implement it."""
    graph = build_signal_graph(text, module)
    index = _LineIndex(text)
    return {name: _slice(graph, index, (name,), graph.lines_for(name)) for name in graph.outputs}


def select_signal_code(
    text: str, correct: Iterable[str], wrong: Iterable[str], module: str | None = None
) -> SignalSlice:
    """Lines to learn from in a sample whose `correct` outputs passed and `wrong` ones failed.

    Keeps the code of the correct signals with their enclosing always blocks
    and instances taken whole (as SALV does), then removes the statement lines
    that serve only wrong signals, so a wrong assignment sharing an always
    block with a correct one is not rewarded.
    """
    graph = build_signal_graph(text, module)
    correct, wrong = tuple(correct), tuple(wrong)
    unknown = sorted(set(correct + wrong) - set(graph.outputs))
    if unknown:
        raise SignalExtractionError(f"not output ports of {graph.module}: {', '.join(unknown)}")
    keep: set[int] = set()
    exact: set[int] = set()
    for name in correct:
        keep |= graph.block_lines_for(name)
        exact |= graph.lines_for(name)
    wrong_only: set[int] = set()
    for name in wrong:
        wrong_only |= graph.lines_for(name)
    wrong_only -= exact
    return _slice(graph, _LineIndex(text), correct, keep - wrong_only)
