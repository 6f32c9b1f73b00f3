"""Module generation against the real server (tiny random checkpoint): a huge comment is cut to a
bounded prompt and the answer says so; inline completions do not wait behind a generation; a newer
generation supersedes the one in flight. The random model never writes `endmodule`, so with
`moduleMaxNewTokens` 8000 a generation runs for minutes unless something stops it."""

from __future__ import annotations

import asyncio

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcRequestCancelled
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.test_server_support import SERVER, Session, start

ASYNC = pytest.mark.asyncio(loop_scope="module")


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER), scope="module")
async def client(lsp_client: LanguageClient, tiny_checkpoint):
    options = {"checkpoint": str(tiny_checkpoint), "debounceMs": 0, "maxNewTokens": 8, "moduleMaxNewTokens": 8000,
               "features": {"diagnostics": False}}
    lsp_client.verifrag = await start(lsp_client, options)
    await lsp_client.verifrag.model_state("ready")
    yield
    await lsp_client.shutdown_session()


def progress_messages(session: Session) -> list[str]:
    return [getattr(v, "message", None) or "" for values in session.client.progress_reports.values() for v in values]


def text_reports(session: Session) -> int:
    """Progress reports of decoded text ("N characters"), which a generation sends only while it decodes."""
    return sum(m.endswith("characters") for m in progress_messages(session))


async def decoding(session: Session, before: int) -> None:
    """Wait until a generation has sent a text report beyond the first `before`: it is then decoding on
    the model thread. (Counting any progress message raced: the model-loading progress ends after the
    "ready" status, so its late end plus the generation's begin made the generation look started while
    it was still building its prompt; an inline completion queued then ran before the decoding began,
    and there was nothing left to pause. Seen once in CI on a busy machine.)"""
    await session.until(lambda: text_reports(session) > before)


def configure(session: Session, settings: dict) -> None:
    session.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={"verifrag": settings}))


@ASYNC
async def test_inline_completion_does_not_wait_for_a_generation(session: Session):
    uri = "file:///work/priority.v"
    session.open(uri, "// a module that never ends\n\nmodule m(input a, output y);\n  assign y = \n")
    before = text_reports(session)
    pending = asyncio.ensure_future(session.generate(uri, 0, msg_id="long-generation"))
    await decoding(session, before)
    answer = await session.client.text_document_inline_completion_async(types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=3, character=13),
        context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic),
    ))
    assert answer is not None
    assert not pending.done(), "the inline completion waited until the generation ended"
    await session.until(lambda: any("paused for an inline completion" in m for m in progress_messages(session)))
    # a newer generation supersedes this one, which ends at once and inserts nothing
    newer = asyncio.ensure_future(session.generate(uri, 0, msg_id="newer-generation"))
    outcome = await pending
    assert outcome["applied"] is False and "superseded" in outcome["message"]
    assert any("superseded" in m for m in progress_messages(session))
    session.client.cancel_request(types.CancelParams(id="newer-generation"))
    with pytest.raises(JsonRpcRequestCancelled):
        await newer
    assert not session.edits


@ASYNC
async def test_a_huge_comment_is_cut_to_a_bounded_prompt(session: Session):
    configure(session, {"moduleMaxNewTokens": 4, "contextTokens": 256})
    uri = "file:///work/huge-comment.v"
    comment = "".join(f"// requirement {n}: the output follows input a{n} when enable is high\n" for n in range(1600))
    assert len(comment) > 100_000
    session.open(uri, comment)
    outcome = await session.generate(uri, 0)
    assert "the prompt uses its first 256" in outcome["message"], outcome
    configure(session, {"moduleMaxNewTokens": 8000, "contextTokens": 1024})
