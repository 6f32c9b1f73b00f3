"""The server's pure parts: settings, LSP positions, context windows, post-processing, comment blocks,
and the JSON-RPC reader fed in pieces cut where a pipe may cut them."""

from __future__ import annotations

import asyncio
import json
import re
import threading

from pygls.protocol import JsonRPCProtocol, default_converter

from verifrag.server import transport
from verifrag.server.completion import ANCHOR_LINES, Context, cursor_context, end_of_block, finish
from verifrag.server.config import ServerConfig, settings_section, update_config
from verifrag.server.documents import Lines, indent_unit
from verifrag.server.generation import comment_block, module_name, specification
from verifrag.syntax.identifiers import identifiers_at


def test_settings_update_only_named_keys_and_report_bad_ones():
    config, problems = update_config(ServerConfig(), {"maxNewTokens": 12, "decoder": "ntp", "features.diagnostics": False})
    assert (config.max_new_tokens, config.decoder, config.features.diagnostics) == (12, "ntp", False)
    assert config.features.completion and not problems
    again, problems = update_config(config, {"device": "tpu", "bogus": 1, "features": {"completion": "yes"}})
    assert again == config and len(problems) == 3
    assert settings_section({"verifrag": {"a": 1}}) == {"a": 1}


def test_positions_count_utf16_and_lsp_line_breaks_only():
    lines = Lines.of("a😀b\r\nx\u2028y\rz")
    assert lines.offset(0, 3) == 2  # the emoji is two UTF-16 units
    assert lines.position(2) == (0, 3)
    assert lines.offset(1, 2) == lines.text.index("y")  # U+2028 is not a line break in LSP
    assert lines.offset(2, 0) == lines.text.index("z")
    assert lines.offset(99, 0) == len(lines.text) and lines.offset(0, 99) == 3


def test_context_start_is_a_stable_anchor_line():
    text = "".join(f"  assign w{i} = a{i};\n" for i in range(400))
    count = lambda s: len(s) // 4  # noqa: E731
    first = cursor_context(text, len(text) - 10, 256, count)
    second = cursor_context(text, len(text) - 5, 256, count)
    assert count(first.prompt) <= 256
    assert second.prompt.startswith(first.prompt)  # typing on keeps the prompt's beginning
    start_line = text[: len(text) - 10 - len(first.prompt)].count("\n")
    assert start_line % ANCHOR_LINES == 0


def test_finish_drops_repeats_and_keeps_indentation():
    ctx = Context(prompt="assign y = (a", after=");\nendmodule\n", indent="  ")
    assert finish(" & b);", ctx) == " & b"
    assert finish(");", ctx) == ""
    tabbed = Context(prompt="always @* begin\n", after="", indent="\t")
    assert finish("  x = 1;\n    y = 2;", tabbed) == "  x = 1;\n\t\ty = 2;"
    assert indent_unit("module m;\n    a;\n        b;\n") == "    "


def test_block_rule_waits_for_the_closing_keyword():
    assert end_of_block("a <= 1; b <= 2;") == len("a <= 1;")
    text = "begin\n  a <= 1;\n  b <= 2;\nend\n"
    assert end_of_block(text) == text.index("end\n") + 3
    assert end_of_block("begin a <= 1;") is None


def test_comment_block_and_spec():
    text = "// A counter named `cnt`\n// with enable\n\nmodule x; endmodule\n"
    block = comment_block(text, 2)
    assert (block.first_line, block.last_line) == (0, 1)
    assert comment_block(text, 3) is None and comment_block(text, 99) is None
    assert specification(block) == "A counter named `cnt`\nwith enable"
    assert module_name(specification(block)) == "cnt"


def test_identifiers_survive_unparsable_text():
    assert identifiers_at("module m; initial " + "begin " * 10000, 20) == []


class Pieces:
    """Input that arrives in the given pieces, as a pipe delivers what the client has written so far
    (`transport.Reader`); a read never spans two pieces, as `read1` never waits for more."""

    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = [piece for piece in pieces if piece]

    async def read_some(self, size: int) -> bytes:
        if not self.pieces:
            return b""
        head, rest = self.pieces[0][:size], self.pieces[0][size:]
        self.pieces[0:1] = [rest] if rest else []
        return head


class Answers:
    """A writer that keeps what the protocol sends."""

    def __init__(self) -> None:
        self.data = b""

    def write(self, data: bytes) -> None:
        self.data += data

    def ids(self) -> list[object]:
        headers = rb"Content-Length: \d+\r\n(?:[^\r\n]+\r\n)*\r\n"
        return [json.loads(body)["id"] for body in re.split(headers, self.data)[1:]]


def test_oversize_messages_are_answered_under_their_own_ids_wherever_the_input_is_cut():
    """Two oversize requests back to back: the second one's id is read from what follows the first,
    and a cut inside `"id": 275` must not answer id 27 (which a fuzz run caught)."""
    first, second = (b"Content-Length: 999999999999\r\n\r\n"
                     + json.dumps({"jsonrpc": "2.0", "id": n, "method": "textDocument/hover", "params": {}}).encode()
                     for n in (274, 275))
    stream = first + second
    for cut in range(len(first), len(stream)):
        answers = Answers()
        protocol = JsonRPCProtocol(None, default_converter())
        protocol.set_writer(answers)
        asyncio.run(transport.serve(threading.Event(), Pieces([stream[:cut], stream[cut:]]), protocol))
        assert answers.ids() == [274, 275], stream[:cut]


def test_a_burst_of_messages_is_read_in_chunks_not_a_read_per_line_and_body():
    """Fast typing sends a full-text didChange per character; on stdin every read is a hop to a worker
    thread, so 60 messages of 6 KB that arrived together must cost a handful of reads, not 180."""
    requests = [json.dumps({"jsonrpc": "2.0", "id": n, "method": "textDocument/hover",
                            "params": {"padding": "x" * 6000}}).encode() for n in range(60)]
    stream = b"".join(b"Content-Length: %d\r\n\r\n" % len(body) + body for body in requests)
    source = Pieces([stream])
    reads = 0
    read_some = source.read_some

    async def counted(size: int) -> bytes:
        nonlocal reads
        reads += 1
        return await read_some(size)

    source.read_some = counted
    answers = Answers()
    protocol = JsonRPCProtocol(None, default_converter())
    protocol.set_writer(answers)
    asyncio.run(transport.serve(threading.Event(), source, protocol))
    assert answers.ids() == list(range(60))  # each answered (method not found), in order
    assert reads <= len(stream) // transport._CHUNK + 2
