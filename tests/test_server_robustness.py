"""The server under bad input, cancellation and a broken checkpoint: it answers every request (a result
or a proper JSON-RPC error) and keeps serving."""

from __future__ import annotations

import asyncio
import json
import random
import subprocess

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams, JsonRpcRequestCancelled
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.test_server_support import BROKEN, SERVER, Session, start

ASYNC = pytest.mark.asyncio(loop_scope="module")


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER), scope="module")
async def client(lsp_client: LanguageClient, tiny_checkpoint):
    options = {"checkpoint": str(tiny_checkpoint), "debounceMs": 0, "maxNewTokens": 16, "moduleMaxNewTokens": 8000}
    lsp_client.verifrag = await start(lsp_client, options)
    await lsp_client.verifrag.model_state("ready")
    yield
    await lsp_client.shutdown_session()


def inline(session: Session, uri: str, line: int, character: int, msg_id: str | None = None):
    params = types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=line, character=character),
        context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked),
    )
    return session.client.protocol.send_request_async(types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id=msg_id)


async def still_serving(session: Session, name: str) -> None:
    """A broken document elsewhere leaves the server answering: diagnostics for a fresh file arrive."""
    uri = f"file:///work/alive-{name}.v"
    session.open(uri, BROKEN)
    await session.diagnostics(uri, lambda d: len(d) > 0)


def random_text(seed: int, size: int) -> str:
    """Random code points, including NUL, lone surrogates, CR, form feeds and U+2028."""
    rng = random.Random(seed)
    pool = [chr(c) for c in range(0, 0x250)] + ["\ud800", "\udfff", "\u2028", "\r", "\r\n", "😀", "\x0c"]
    return "".join(rng.choice(pool) for _ in range(size))


NASTY = {
    "random": random_text(0, 20000),
    "bytes_as_latin1": bytes(random.Random(1).randrange(256) for _ in range(20000)).decode("latin-1"),
    "nested": "module deep;\ninitial " + "begin " * 10000 + "end " * 10000 + "\nendmodule\n",
    "open_comment": "module m;\n/* never closed\n wire a;\n",
    "open_string": 'module m;\ninitial $display("never closed\n',
    "huge": "module big(input a, output y);\n" + "  assign y = a; // padding padding padding\n" * 240000 + "endmodule\n",
}


@ASYNC
@pytest.mark.parametrize("name", list(NASTY))
async def test_nasty_documents_get_answers(session: Session, name: str):
    uri = f"file:///work/{name}.v"
    text = NASTY[name]
    if name == "huge":
        assert len(text.encode()) > 10_000_000
    session.open(uri, text)
    await session.diagnostics(uri, lambda d: True)  # published, whatever they say
    for line, character in ((0, 0), (3, 7), (10**6, 10**6)):
        result = await inline(session, uri, line, character)
        assert result is not None
        listing = await session.client.text_document_completion_async(
            types.CompletionParams(text_document=types.TextDocumentIdentifier(uri=uri),
                                   position=types.Position(line=line, character=character))
        )
        assert listing is not None
    session.client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    await session.diagnostics(uri, lambda d: len(d) == 0)
    await still_serving(session, name)


@ASYNC
async def test_deep_nesting_is_reported_not_fatal(session: Session):
    uri = "file:///work/deep-report.v"
    session.open(uri, NASTY["nested"])
    found = await session.diagnostics(uri, lambda d: len(d) > 0)
    assert found[0].severity == types.DiagnosticSeverity.Error


@ASYNC
async def test_closed_and_unknown_documents(session: Session):
    uri = "file:///work/closed.v"
    session.open(uri, "// spec\n")
    session.client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    outcome = await session.generate(uri, 0)
    assert outcome["applied"] is False and "not open" in outcome["message"]
    actions = await session.client.text_document_code_action_async(
        types.CodeActionParams(text_document=types.TextDocumentIdentifier(uri=uri),
                               range=types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)),
                               context=types.CodeActionContext(diagnostics=[]))
    )
    assert not actions
    with pytest.raises(JsonRpcInvalidParams):
        await session.client.protocol.send_request_async(
            types.WORKSPACE_EXECUTE_COMMAND,
            types.ExecuteCommandParams(command="verifrag.generateModule", arguments=["not an object"]),
        )
    # a change or save for a document never opened is ignored, and the server goes on
    session.client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri="file:///never.v")))
    await still_serving(session, "unknown")


@ASYNC
async def test_cancelling_module_generation_inserts_nothing(session: Session):
    """The random model does not write `endmodule`, so this request runs for its 8,000 tokens (minutes)
    unless cancelled."""
    uri = "file:///work/cancel.v"
    session.open(uri, "// a module that never ends\n")
    pending = asyncio.ensure_future(session.generate(uri, 0, msg_id="generate-1"))
    # it started: its own progress began (the model load's reports are already there, and a cancel that
    # arrives while the server is still creating the progress token ends the request with no report)
    await session.until(lambda: any(isinstance(v, types.WorkDoneProgressBegin) and v.title == "VeriFrag: generating module"
                                    for values in session.client.progress_reports.values() for v in values))
    session.client.cancel_request(types.CancelParams(id="generate-1"))
    with pytest.raises(JsonRpcRequestCancelled):
        await pending
    await session.until(
        lambda: any(isinstance(v, types.WorkDoneProgressEnd) and v.message == "cancelled"
                    for values in session.client.progress_reports.values() for v in values)
    )
    assert not session.edits
    await still_serving(session, "after-cancel")


def test_invalid_utf8_on_the_wire_does_not_kill_the_server(tmp_path):
    """A message body that is not UTF-8 gets no answer, but the next valid request does."""
    def frame(body: bytes) -> bytes:
        return b"Content-Length: %d\r\n\r\n" % len(body) + body

    initialize = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                             "params": {"capabilities": {}, "initializationOptions": {"checkpoint": str(tmp_path / "none")}}})
    shutdown = json.dumps({"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
    exit_ = json.dumps({"jsonrpc": "2.0", "method": "exit"})
    stream = (frame(b'{"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": "\xff\xfe"}')
              + frame(initialize.encode()) + frame(shutdown.encode()) + frame(exit_.encode()))
    done = subprocess.run(SERVER, input=stream, capture_output=True, timeout=120)
    assert b'"id": 1' in done.stdout and b'"capabilities"' in done.stdout
    assert b'"id": 2' in done.stdout
