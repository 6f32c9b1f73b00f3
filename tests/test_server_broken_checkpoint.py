"""A checkpoint that cannot load leaves the server serving diagnostics, with one clear status."""

from __future__ import annotations

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.test_server_support import SERVER, start

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def broken_checkpoint(tmp_path_factory):
    directory = tmp_path_factory.mktemp("broken")
    (directory / "verifrag.json").write_text("{ this is not json")
    return directory


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER), scope="module")
async def client(lsp_client: LanguageClient, broken_checkpoint):
    lsp_client.verifrag = await start(lsp_client, {"checkpoint": str(broken_checkpoint), "debounceMs": 10})
    yield
    await lsp_client.shutdown_session()


async def test_broken_checkpoint_falls_back_to_diagnostics_only(client: LanguageClient):
    session = client.verifrag
    status = await session.model_state("diagnostics-only")
    assert "not valid JSON" in status["message"]
    uri = "file:///work/fallback.v"
    session.open(uri, "module m(input a, output y);\n  assign y = a &;\nendmodule\n")
    found = await session.diagnostics(uri, lambda d: len(d) > 0)
    assert found[0].range.start.line == 1
    answer = await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=1, character=16),
            context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked),
        )
    )
    items = answer.items if hasattr(answer, "items") else (answer or [])
    assert list(items) == []
