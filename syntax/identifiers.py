"""Names a completion list can offer at a cursor: module names anywhere in the text, and the ports,
parameters, signals and instances of the module around the cursor.

Editors without inline completion show these next to the model's suggestion. The syntax tree (not an
elaborated compilation) is enough and works on the half-written code an editor holds mid-typing.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyslang import syntax

from verifrag.syntax.source import OffsetMap, sanitize

SyntaxKind = syntax.SyntaxKind

_PARAMETER_PARENTS = {SyntaxKind.ParameterDeclaration, SyntaxKind.TypeParameterDeclaration}
_PORT_PARENTS = {SyntaxKind.PortDeclaration, SyntaxKind.ImplicitAnsiPort}
_MODULE_KINDS = {SyntaxKind.ModuleDeclaration, SyntaxKind.InterfaceDeclaration, SyntaxKind.ProgramDeclaration}


@dataclass(frozen=True)
class Identifier:
    name: str
    kind: str  # "module", "port", "parameter", "signal" or "instance"


def _declarator_kind(node: syntax.SyntaxNode) -> str:
    """A declarator names a parameter, a port or a signal, depending on what declares it."""
    parent = node.parent
    while parent is not None:
        if parent.kind in _PARAMETER_PARENTS:
            return "parameter"
        if parent.kind in _PORT_PARENTS:
            return "port"
        if parent.kind in _MODULE_KINDS:
            break
        parent = parent.parent
    return "signal"


def _enclosing_module(node: syntax.SyntaxNode) -> syntax.SyntaxNode | None:
    parent = node.parent
    while parent is not None and parent.kind not in _MODULE_KINDS:
        parent = parent.parent
    return parent


def identifiers_at(text: str, offset: int) -> list[Identifier]:
    """Identifiers visible at str offset `offset` of `text`, each once, in declaration order.

    Text pyslang refuses to parse at all (it raises on very deep nesting) has none.
    """
    text = sanitize(text).replace("\0", " ")
    try:
        tree = syntax.SyntaxTree.fromText(text)
    except RuntimeError:
        return []
    offsets = OffsetMap(text)
    found: dict[str, Identifier] = {}

    def contains_cursor(module: syntax.SyntaxNode | None) -> bool:
        if module is None:
            return False
        span = module.sourceRange
        return offsets.to_char(span.start.offset) <= offset <= offsets.to_char(span.end.offset)

    def add(name: str, kind: str) -> None:
        if name and name not in found:
            found[name] = Identifier(name, kind)

    def visit(node: syntax.SyntaxNode) -> bool:
        kind = node.kind
        if kind in _MODULE_KINDS:
            add(node.header.name.valueText, "module")
        elif kind == SyntaxKind.ImplicitAnsiPort and contains_cursor(_enclosing_module(node)):
            add(node.declarator.name.valueText, "port")
        elif kind == SyntaxKind.Declarator and contains_cursor(_enclosing_module(node)):
            add(node.name.valueText, _declarator_kind(node))
        elif kind == SyntaxKind.HierarchicalInstance and node.decl is not None:
            if contains_cursor(_enclosing_module(node)):
                add(node.decl.name.valueText, "instance")
        return True

    tree.root.visit(visit)
    return list(found.values())
