"""End-to-end: the real server process (tiny random checkpoint) driven by pytest-lsp's client.

Diagnostics appear and clear, inline completion answers with fragment-complete text at the right
place, the completion fallback lists identifiers in scope, configuration switches features, and the
model state is announced."""

from __future__ import annotations

import ast

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.test_server_support import BROKEN, SERVER, Session, start
from verifrag.model.projections import fbgemm_half_available
from verifrag.syntax.fragments import is_complete

GOOD = """module counter(input clk, input rst, output reg [3:0] q);
  always @(posedge clk) begin
    if (rst) q <= 4'd0;
    else q <= q + 1;
  end
endmodule
"""
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER), scope="module")
async def client(lsp_client: LanguageClient, tiny_checkpoint):
    """One server for the module (starting one costs seconds); tests use distinct documents."""
    lsp_client.verifrag = await start(lsp_client, {"checkpoint": str(tiny_checkpoint), "debounceMs": 10, "maxNewTokens": 24})
    await lsp_client.verifrag.model_state("ready")
    yield
    await lsp_client.shutdown_session()


def inline(client: LanguageClient, uri: str, line: int, character: int, invoked: bool = False):
    kind = types.InlineCompletionTriggerKind.Invoked if invoked else types.InlineCompletionTriggerKind.Automatic
    return client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character),
            context=types.InlineCompletionContext(trigger_kind=kind),
        )
    )


async def test_diagnostics_appear_move_and_clear(session: Session):
    uri = "file:///work/broken.v"
    session.open(uri, BROKEN)
    found = await session.diagnostics(uri, lambda d: len(d) > 0)
    assert found[0].severity == types.DiagnosticSeverity.Error
    assert found[0].range.start.line == 1
    # A multi-byte character before the error moves the column by its UTF-16 width (2 for an emoji).
    session.change(uri, "module broken(input a, output y);\n  /*😀*/ assign y = a &;\nendmodule\n", 2)
    moved = await session.diagnostics(uri, lambda d: bool(d) and d[0].range.start.character != found[0].range.start.character)
    assert moved[0].range.start.character == found[0].range.start.character + len("/*😀*/ ") + 1
    session.change(uri, GOOD, 3)
    await session.diagnostics(uri, lambda d: len(d) == 0)
    session.change(uri, BROKEN, 4)
    await session.diagnostics(uri, lambda d: len(d) > 0)
    session.client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    await session.diagnostics(uri, lambda d: len(d) == 0)


async def test_semantic_diagnostics_span_open_documents(session: Session):
    """An unknown module is an error until the file declaring it is opened too; a syntax error in a
    third file does not stop that."""
    top, sub, bad = "file:///work/top.v", "file:///work/sub.v", "file:///work/bad.v"
    session.open(top, "module top(input a, output y);\n  sub u(.a(a), .y(y));\nendmodule\n")
    missing = await session.diagnostics(top, lambda d: any(x.code == "UnknownModule" for x in d))
    assert missing[0].range.start.line == 1
    session.open(bad, BROKEN)
    session.open(sub, "module sub(input a, output y);\n  assign y = ~a;\nendmodule\n")
    await session.diagnostics(top, lambda d: not any(x.code == "UnknownModule" for x in d))
    assert any(d.severity == types.DiagnosticSeverity.Error for d in session.client.diagnostics[bad])


async def test_inline_completion_is_fragment_complete(session: Session):
    uri = "file:///work/counter.v"
    text = "module counter(input clk, output reg [3:0] q);\n  always @(pos"
    session.open(uri, text)
    result = await inline(session.client, uri, 1, len("  always @(pos"))
    assert len(result.items) <= 1
    for item in result.items:
        assert is_complete(text + item.insert_text), item.insert_text
        assert item.range.start == types.Position(line=1, character=len("  always @(pos"))
    # "auto" on a CPU: next-token for one statement of ghost text; for an invoked, longer completion
    # Medusa, on float16 weights whose tree passes are cheap only on fbgemm's kernel
    assert session.stats and session.stats[-1]["decoder"] == "ntp"
    invoked = await inline(session.client, uri, 1, len("  always @(pos"), invoked=True)
    for item in invoked.items:
        assert is_complete(text + item.insert_text)
    assert session.stats[-1]["decoder"] == ("medusa" if fbgemm_half_available() else "ntp")


async def test_positions_past_the_end_and_unknown_documents(session: Session):
    uri = "file:///work/short.v"
    session.open(uri, "module m;\n")
    result = await inline(session.client, uri, 500, 500)
    for item in result.items:
        assert item.range.start == types.Position(line=1, character=0)  # clamped to the text's end
    unknown = await inline(session.client, "file:///nowhere.v", 0, 0)
    assert len(unknown.items) == 0
    listing = await session.client.text_document_completion_async(
        types.CompletionParams(text_document=types.TextDocumentIdentifier(uri="file:///nowhere.v"),
                               position=types.Position(line=3, character=1))
    )
    assert len(listing.items) == 0


async def test_completion_fallback_lists_identifiers_in_scope(session: Session):
    uri = "file:///work/scope.v"
    text = ("module sub(input a); endmodule\n"
            "module top #(parameter WIDTH = 4)(input clk, output [WIDTH-1:0] q);\n"
            "  wire ready;\n  assign q = r\nendmodule\n"
            "module other(input zzz); endmodule\n")
    session.open(uri, text)
    listing = await session.client.text_document_completion_async(
        types.CompletionParams(text_document=types.TextDocumentIdentifier(uri=uri),
                               position=types.Position(line=3, character=len("  assign q = r")))
    )
    labels = {item.label: item for item in listing.items}
    for name in ("clk", "q", "WIDTH", "ready", "sub", "top", "other"):
        assert name in labels, name
    assert "zzz" not in labels  # another module's port is out of scope
    assert labels["WIDTH"].kind == types.CompletionItemKind.Constant
    model_items = [item for item in listing.items if item.detail == "VeriFrag model suggestion"]
    for item in model_items:  # replaces the typed word, so the client's filter keeps it
        assert item.text_edit.new_text.startswith("r")
        assert item.text_edit.range.start.character == len("  assign q = ")


async def test_configuration_switches_features(session: Session):
    uri = "file:///work/switch.v"
    session.open(uri, BROKEN)
    await session.diagnostics(uri, lambda d: len(d) > 0)
    session.client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"verifrag": {"features": {"diagnostics": False, "inlineCompletion": False}}})
    )
    await session.diagnostics(uri, lambda d: len(d) == 0)
    result = await inline(session.client, uri, 1, 5)
    assert len(result.items) == 0
    session.client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"verifrag": {"features.diagnostics": True, "maxNewTokens": "many"}})
    )
    await session.diagnostics(uri, lambda d: len(d) > 0)
    assert any("maxNewTokens" in m.message for m in session.client.log_messages)
    session.client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"verifrag": {"features": {"inlineCompletion": True}}})
    )


async def test_code_action_offers_generation_on_comment_lines(session: Session):
    uri = "file:///work/spec.v"
    session.open(uri, "// a 2-input AND gate\n// with output y\n\nmodule x; endmodule\n")

    async def actions(line: int):
        return await session.client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=types.Range(start=types.Position(line=line, character=0), end=types.Position(line=line, character=0)),
                context=types.CodeActionContext(diagnostics=[]),
            )
        )

    offered = await actions(1)
    # lsprotocol's client-side hook reads any object with a "command" key as a Command, so our CodeAction
    # arrives as Command(title, command=<repr of the nested Command>): recover the nested object.
    action = ast.literal_eval(offered[0].command)
    assert offered[0].title == action["title"]
    assert action["command"] == "verifrag.generateModule"
    assert action["arguments"] == [{"uri": uri, "line": 1}]
    assert not await actions(3)
