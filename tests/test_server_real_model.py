"""End-to-end with the bundled default model (SmolLM2-135M + Medusa heads): real suggestions and a
real module generated from a comment and inserted with workspace/applyEdit."""

from __future__ import annotations

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.test_server_support import SERVER, Session, start
from verifrag.syntax.diagnostics import parse_diagnostics
from verifrag.syntax.fragments import is_complete

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.slow]

SPEC = "// A 2-input AND gate: output y is a AND b.\n"


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER), scope="module")
async def client(lsp_client: LanguageClient):
    lsp_client.verifrag = await start(lsp_client, {"moduleMaxNewTokens": 160})
    await lsp_client.verifrag.model_state("ready")
    yield
    await lsp_client.shutdown_session()


async def test_real_inline_completion(session: Session):
    uri = "file:///work/real.v"
    text = "module counter(input clk, input rst, output reg [3:0] q);\n  always @(posedge clk) begin\n    if (rst) q <= "
    session.open(uri, text)
    result = await session.client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=2, character=len("    if (rst) q <= ")),
            context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic),
        )
    )
    assert len(result.items) == 1
    suggestion = result.items[0].insert_text
    assert suggestion.strip()
    assert is_complete(text + suggestion)
    assert suggestion.count(";") <= 1  # an automatic trigger ends at the end of the statement
    assert session.stats[-1]["newTokens"] > 0


async def test_generate_module_inserts_checked_module(session: Session):
    uri = "file:///work/and.v"
    session.open(uri, SPEC)
    outcome = await session.generate(uri, 0)
    assert outcome["applied"] is True, outcome
    (edit,) = session.edits[-1].changes[uri]
    assert edit.range.start == types.Position(line=1, character=0)  # below the comment
    inserted = edit.new_text
    assert inserted.startswith("module ")
    errors = [d for d in parse_diagnostics(inserted) if d.severity == "error"]
    assert outcome["parses"] is (not errors), (outcome["message"], inserted)
    assert ("does NOT parse" in outcome["message"]) is (not outcome["parses"])
    reports = [v for values in session.client.progress_reports.values() for v in values]
    assert any(isinstance(v, types.WorkDoneProgressBegin) and v.cancellable for v in reports)
    assert any(isinstance(v, types.WorkDoneProgressEnd) for v in reports)
