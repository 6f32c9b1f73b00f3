"""Messages a careless or hostile client sends, over raw stdio to the real server process: oversize
headers and bodies, malformed params, requests before `initialize`. The server answers every request
that carries an id with a JSON-RPC error (never a traceback, never a popup) and keeps serving."""

from __future__ import annotations

import json

import pytest

from tests.test_server_support import BROKEN, RawServer, frame

OPTIONS = {"features": {"inlineCompletion": False, "completion": False, "moduleGeneration": False}, "debounceMs": 0}


@pytest.fixture
def server():
    raw = RawServer()
    yield raw
    raw.stop()


def still_serving(server: RawServer, name: str) -> None:
    uri = f"file:///work/alive-{name}.v"
    server.open(uri, BROKEN)
    server.diagnostics(uri, lambda d: len(d) > 0)


def no_popups(server: RawServer) -> None:
    assert not [m for m in server.messages if m.get("method") == "window/showMessage"]


def test_request_before_initialize_is_server_not_initialized(server):
    server.send({"id": 1, "method": "textDocument/hover",
                 "params": {"textDocument": {"uri": "file:///a.v"}, "position": {"line": 0, "character": 0}}})
    server.send({"id": 2, "method": "shutdown"})
    for msg_id in (1, 2):
        error = server.answer(msg_id)["error"]
        assert error["code"] == -32002
        assert "data" not in error or not error["data"]
    server.initialize(OPTIONS)
    still_serving(server, "after-early")
    assert server.close() == 0


def test_oversize_content_length_is_refused_and_the_server_goes_on(server):
    server.initialize(OPTIONS)
    body = json.dumps({"jsonrpc": "2.0", "id": 7, "method": "textDocument/hover", "params": {}}).encode()
    server.send_bytes(b"Content-Length: 999999999999\r\n\r\n" + body)
    error = server.answer(7)["error"]
    assert error["code"] == -32600 and "exceeds" in error["message"]
    server.send_bytes(b"X-Junk: " + b"x" * 100_000 + b"\r\n\r\n")  # a header line far over the limit
    still_serving(server, "after-oversize")
    no_popups(server)
    assert server.close() == 0


MALFORMED = {
    "wrong types": {"textDocument": {"uri": 5}, "position": {"line": "zero", "character": None}},
    "null": None,
    "a list": [1, 2, 3],
    "negative line": {"textDocument": {"uri": "file:///work/x.v"}, "position": {"line": -1, "character": 0}},
    "missing position": {"textDocument": {"uri": "file:///work/x.v"}},
}


@pytest.mark.parametrize("method", ["textDocument/completion", "textDocument/inlineCompletion", "textDocument/codeAction"])
def test_malformed_params_get_invalid_params(server, method):
    server.initialize(OPTIONS)
    for index, params in enumerate(MALFORMED.values()):
        server.send({"id": index, "method": method, "params": params})
        error = server.answer(index)["error"]
        assert error["code"] == -32602, (method, params, error)
    # a malformed notification has nobody to answer: it is dropped, silently
    server.send({"method": "textDocument/didOpen", "params": {"textDocument": {"uri": 3}}})
    still_serving(server, "after-malformed")
    no_popups(server)
    assert server.close() == 0


def test_bad_json_and_bad_envelopes_are_answered_or_dropped(server):
    server.initialize(OPTIONS)
    server.send_bytes(frame(b"{not json"))
    assert server.answer(None)["error"]["code"] == -32700
    server.send_bytes(frame(b"[1, 2]"))
    server.send_bytes(frame(json.dumps({"jsonrpc": "2.0", "id": [1], "method": "shutdown"}).encode()))
    server.send_bytes(frame(json.dumps({"id": 9, "method": "shutdown"}).encode()))  # no jsonrpc version
    assert server.answer(9)["error"]["code"] == -32600
    still_serving(server, "after-bad-json")
    no_popups(server)
    assert server.close() == 0
