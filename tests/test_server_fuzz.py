"""Fuzzing the real server over stdio: a few thousand random and mutated LSP messages, valid and
invalid, from hypothesis (derandomized, so CI runs the same messages every time; bounded by message
count, not by time). Afterwards the server is alive, every request whose message can be read was
answered exactly once under its own id (an oversize one too: its id is in its first bytes), no answer
carries an id that was never sent, and diagnostics for fresh documents are still correct. A body cut
short by its Content-Length cannot be read, so JSON-RPC answers it with id null: its id is not awaited."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_server_support import BROKEN, RawServer, frame

EXAMPLES = 100  # x 20 to 60 messages each: about 3,700 messages in all
URIS = [f"file:///fuzz/{name}.v" for name in ("a", "b", "c")] + ["untitled:x", "", "not a uri"]
GOOD = "module fine(input a, output y);\n  assign y = a;\nendmodule\n"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**40, 2**40) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
integers = st.integers(-5, 40) | st.integers(-2**31, 2**31)
verilog = st.sampled_from([GOOD, BROKEN, "module m;\n  wire a = ", "// comment\n", ""]) | st.text(max_size=300)
position = st.fixed_dictionaries({"line": integers, "character": integers})
document = st.fixed_dictionaries({"uri": st.sampled_from(URIS)})


def _request(method: str, params: st.SearchStrategy) -> st.SearchStrategy:
    """A request; its id (a number or a string, both valid JSON-RPC ids) is filled in when it is sent."""
    return st.fixed_dictionaries({"method": st.just(method), "params": params, "id": st.sampled_from([int, str])})


def _notification(method: str, params: st.SearchStrategy) -> st.SearchStrategy:
    return st.fixed_dictionaries({"method": st.just(method), "params": params})


valid = st.one_of(
    _notification("textDocument/didOpen", st.fixed_dictionaries({"textDocument": st.fixed_dictionaries(
        {"uri": st.sampled_from(URIS), "languageId": st.just("verilog"), "version": integers, "text": verilog})})),
    _notification("textDocument/didChange", st.fixed_dictionaries({
        "textDocument": st.fixed_dictionaries({"uri": st.sampled_from(URIS), "version": integers}),
        "contentChanges": st.lists(st.fixed_dictionaries({"text": verilog}), max_size=2)})),
    _notification("textDocument/didSave", st.fixed_dictionaries({"textDocument": document})),
    _notification("textDocument/didClose", st.fixed_dictionaries({"textDocument": document})),
    _notification("$/cancelRequest", st.fixed_dictionaries({"id": integers})),
    _request("textDocument/completion", st.fixed_dictionaries({"textDocument": document, "position": position})),
    _request("textDocument/inlineCompletion", st.fixed_dictionaries({
        "textDocument": document, "position": position,
        "context": st.fixed_dictionaries({"triggerKind": st.sampled_from([1, 2, 0, 7])})})),
    _request("textDocument/codeAction", st.fixed_dictionaries({
        "textDocument": document, "range": st.fixed_dictionaries({"start": position, "end": position}),
        "context": st.fixed_dictionaries({"diagnostics": st.just([])})})),
    _request("workspace/executeCommand", st.fixed_dictionaries({
        "command": st.sampled_from(["verifrag.generateModule", "unknown.command"]),
        "arguments": st.lists(json_values | st.fixed_dictionaries({"uri": st.sampled_from(URIS), "line": integers}),
                              max_size=2)})),
    _request("textDocument/hover", st.fixed_dictionaries({"textDocument": document, "position": position})),
    _request("no/suchMethod", json_values),
    _notification("workspace/didChangeConfiguration", st.fixed_dictionaries({"settings": json_values})),
)


@st.composite
def mutated(draw: Any) -> dict[str, Any]:
    """A valid message with one part replaced by random JSON, or removed."""
    message = draw(valid)
    params = message.get("params")
    if isinstance(params, dict) and params and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(params)))
        if draw(st.booleans()):
            del params[key]
        else:
            params[key] = draw(json_values)
    else:
        message["params"] = draw(json_values)
    return message


# what goes on the wire: ("message", dict) is framed properly; the others break framing on purpose,
# in ways after which the next message must still get through
wire = st.one_of(
    st.tuples(st.just("message"), valid),
    st.tuples(st.just("message"), mutated()),
    st.tuples(st.just("body"), st.binary(max_size=200)),  # not JSON, not UTF-8, or JSON that is no message
    st.tuples(st.just("short"), valid),  # Content-Length shorter than the body
    st.tuples(st.just("oversize"), valid),  # Content-Length far above the limit
    st.tuples(st.just("junk"), st.binary(max_size=60).map(lambda b: b.replace(b"\n", b"") + b"\r\n")),
)


class Fuzzer:
    def __init__(self, server: RawServer) -> None:
        self.server = server
        self.next_id = 0
        self.sent: list[int | str] = []  # every id sent
        self.expected: list[int | str] = []  # ids that must be answered: those whose message can be read

    def send(self, kind: str, payload: Any) -> None:
        if kind in ("message", "short", "oversize"):
            message = {"jsonrpc": "2.0", **payload}
            if "id" in message:
                self.next_id += 1
                message["id"] = message["id"](self.next_id)
                self.sent.append(message["id"])
            body = json.dumps(message).encode()
            if kind == "message":
                self.server.send_bytes(frame(body))
                if "id" in message:
                    self.expected.append(message["id"])
            elif kind == "short":  # the body is cut and unreadable: JSON-RPC answers that with id null
                self.server.send_bytes(b"Content-Length: %d\r\n\r\n" % max(1, len(body) // 2) + body)
            else:
                self.server.send_bytes(b"Content-Length: 999999999999\r\n\r\n" + body)
                if "id" in message:
                    self.expected.append(message["id"])  # the id is read from the body's first bytes
        elif kind == "body":
            self.server.send_bytes(frame(payload or b"x"))
        else:
            self.server.send_bytes(payload)


@pytest.fixture(scope="module")
def fuzzer(tiny_checkpoint):
    server = RawServer()
    server.initialize({"checkpoint": str(tiny_checkpoint), "debounceMs": 0, "maxNewTokens": 4, "moduleMaxNewTokens": 8})
    yield Fuzzer(server)
    server.stop()


@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(batch=st.lists(wire, min_size=20, max_size=60))
def test_random_messages(fuzzer: Fuzzer, batch: list[tuple[str, Any]]):
    for kind, payload in batch:
        fuzzer.send(kind, payload)
    assert fuzzer.server.process.poll() is None


def test_alive_answered_and_diagnosing_after_fuzzing(fuzzer: Fuzzer):
    server = fuzzer.server
    assert len(fuzzer.expected) > 300  # the fuzzing above really sent requests
    for msg_id in fuzzer.expected:
        server.answer(msg_id)
    after = len(server.messages)
    # module names of their own: fuzzed documents may still define `fine` and `broken`
    server.open("file:///fuzz/final-broken.v", BROKEN.replace("broken", "final_broken"), version=1)
    server.open("file:///fuzz/final-good.v", GOOD.replace("fine", "final_fine"), version=1)
    broken = server.diagnostics("file:///fuzz/final-broken.v", lambda d: len(d) > 0, after)
    assert broken[0]["range"]["start"]["line"] == 1 and broken[0]["severity"] == 1
    server.diagnostics("file:///fuzz/final-good.v", lambda d: d == [], after)
    # one answer per request, under its own id: an id misread from a cut message would show up here
    answers = Counter(m["id"] for m in server.messages if "method" not in m and m.get("id") is not None)
    sent = {*fuzzer.sent, "init"}
    assert not {msg_id: n for msg_id, n in answers.items() if n > 1 or msg_id not in sent}
    assert not [m for m in server.messages if m.get("method") == "window/showMessage"
                and "Error in server" in m["params"]["message"]]
    assert server.close() == 0
