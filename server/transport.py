"""The JSON-RPC message loop, with bounds: what pygls 2's `run_async` does, minus its ways to die or hang.

pygls reads a header line with an unbounded `readline()`, trusts `Content-Length` (so
`Content-Length: 999999999999` is a MemoryError that ends the server), and decodes a body with its
`structure_message` as a `json.loads` object hook, so a request whose params fail validation raises
out of `json.loads` and is never answered (the id is lost with the exception). This loop:

- reads header lines of at most `MAX_HEADER_LINE` bytes and bodies of at most `MAX_BODY` bytes;
- answers an oversize request with `-32600` (the id is read from the body's first bytes when it can be)
  and then resynchronises on the next `Content-Length:` header, so a length that lies about the body
  costs one message, not the connection;
- parses the JSON first and validates the top-level message second, so a request with malformed
  params gets `-32602 Invalid params` under its own id, bad JSON gets `-32700`, and nothing pops up.

Raw CR LF cannot occur inside a JSON string, so `Content-Length: N` followed by CR LF never matches
inside a valid body: resynchronising on it is safe.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
from typing import Any, BinaryIO, Protocol

from cattrs.errors import ClassValidationError
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams, JsonRpcInvalidRequest, JsonRpcParseError
from pygls.protocol import JsonRPCProtocol

log = logging.getLogger(__name__)

MAX_HEADER_LINE = 8 * 1024
MAX_HEADER_LINES = 32
MAX_BODY = 64 * 1024 * 1024  # a 10 MB document, JSON-escaped, fits with room to spare
_CHUNK = 64 * 1024
_SNIFF = 4096
_HEADER = re.compile(rb"Content-Length:[ \t]*(\d+)[ \t]*\r?\n", re.IGNORECASE)
_ANY_HEADER = re.compile(rb"[A-Za-z0-9-]+:[^\r\n]*\r?\n")


class Reader(Protocol):
    async def read_some(self, size: int) -> bytes:
        """Whatever is available, 1 to `size` bytes, without waiting for more; b"" at end of input."""


class StdinReader:
    """A binary stdin read on a worker thread (blocking reads must not stop the event loop)."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream

    async def read_some(self, size: int) -> bytes:
        return await asyncio.to_thread(self._stream.read1, size)


class StreamReader:
    """An asyncio stream (TCP)."""

    def __init__(self, stream: asyncio.StreamReader) -> None:
        self._stream = stream

    async def read_some(self, size: int) -> bytes:
        return await self._stream.read(size)


def sniff_id(prefix: bytes) -> int | str | None:
    """The top-level `"id"` of a JSON object whose first bytes are `prefix`, when those bytes show it."""
    text = prefix.decode("utf-8", errors="replace")
    depth, index, decoder = 0, 0, json.JSONDecoder()
    while index < len(text):
        char = text[index]
        if char == '"':
            try:
                key, end = decoder.raw_decode(text, index)
            except ValueError:
                return None
            rest = text[end:].lstrip()
            if depth == 1 and key == "id" and rest.startswith(":"):
                rest = rest[1:].lstrip()
                try:
                    value, end = decoder.raw_decode(rest)
                except ValueError:
                    return None
                # the value is whole only where `,` or `}` follows: a prefix ending `"id": 27` may be of 275
                if rest[end:].lstrip()[:1] not in (",", "}"):
                    return None
                return value if isinstance(value, (int, str)) and not isinstance(value, bool) else None
            index = end
            continue
        depth += char in "{["
        depth -= char in "}]"
        if depth <= 0 and not char.isspace():  # not an object, or its end: what follows is another message
            return None
        index += 1
    return None


def _error(protocol: JsonRPCProtocol, msg_id: Any, error: JsonRpcException) -> None:
    protocol._send_response(msg_id, None, error.to_response_error())


def dispatch(protocol: JsonRPCProtocol, body: bytes) -> None:
    """Decode one body and hand it to the protocol; answer what cannot be handled with an error."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:  # bad UTF-8 is a ValueError too
        log.warning("dropped a body that is not JSON: %s", exc)
        _error(protocol, None, JsonRpcParseError("the message is not valid JSON"))
        return
    if not isinstance(data, dict):
        log.warning("dropped a message that is not a JSON object")
        _error(protocol, None, JsonRpcInvalidRequest("a message must be a JSON object"))
        return
    msg_id = data.get("id")
    valid_id = isinstance(msg_id, (int, str)) and not isinstance(msg_id, bool)
    is_request = "method" in data and "id" in data
    if "id" in data and not valid_id and msg_id is not None:
        if is_request:
            _error(protocol, None, JsonRpcInvalidRequest("the id must be a number or a string"))
        return
    try:
        message = protocol.structure_message(data)
    except (JsonRpcInvalidParams, ClassValidationError) as exc:
        cause = exc.__cause__ or exc
        log.warning("invalid params for %r: %s", data.get("method"), cause)
        if is_request:
            _error(protocol, msg_id, JsonRpcInvalidParams(f"invalid params for {data.get('method')}"))
        return
    except Exception as exc:  # pygls wraps anything else as an internal error
        log.warning("cannot read a message for %r: %s", data.get("method"), exc)
        if is_request:
            _error(protocol, msg_id, JsonRpcInvalidRequest(f"malformed {data.get('method')!r} message"))
        return
    if not hasattr(message, "jsonrpc"):
        log.warning("dropped a message without a jsonrpc version")
        if is_request and valid_id:
            _error(protocol, msg_id, JsonRpcInvalidRequest('a message must carry "jsonrpc": "2.0"'))
        return
    protocol.handle_message(message)


async def _resync(reader: Reader) -> bytes | None:
    """Discard input up to the next `Content-Length:` header and return that header line (None at end)."""
    window = b""
    while True:
        chunk = await reader.read_some(_CHUNK)
        if not chunk:
            return None
        window = window[-64:] + chunk
        match = _HEADER.search(window)
        if match:
            # the rest of the window after the header must be read again: hand it back via the caller
            return window[match.start():]


class _Buffered:
    """The input with a buffer in front: header lines and bodies are cut from reads of `_CHUNK` bytes or
    more, so a burst of small messages costs one read a chunk rather than two or three a message. On
    stdin every read is a hop to a worker thread: reading 60 full-text `didChange`s of 6 KB (what fast
    typing sends before an inline completion) one line or body at a time took 30 ms of the event loop
    (measured). What resynchronising read too far is put back in front (`pending`)."""

    def __init__(self, inner: Reader) -> None:
        self.inner = inner
        self.pending = b""

    async def readline(self, limit: int) -> bytes:
        """One line including its `\\n`, or at most `limit` bytes of it; b"" at end of input."""
        while True:
            cut = self.pending.find(b"\n", 0, limit)
            if cut >= 0 or len(self.pending) >= limit:
                end = cut + 1 if cut >= 0 else limit
                line, self.pending = self.pending[:end], self.pending[end:]
                return line
            chunk = await self.inner.read_some(_CHUNK)
            if not chunk:
                line, self.pending = self.pending, b""
                return line
            self.pending += chunk

    async def read_exactly(self, size: int) -> bytes:
        """`size` bytes, fewer only at end of input. The rest of a body is read in pieces of at least
        `_CHUNK` bytes: whatever a piece holds past the body is the next messages, kept in `pending`."""
        parts, have = [self.pending], len(self.pending)
        while have < size:
            chunk = await self.inner.read_some(max(_CHUNK, size - have))
            if not chunk:
                break
            parts.append(chunk)
            have += len(chunk)
        data = b"".join(parts)
        head, self.pending = data[:size], data[size:]
        return head

    async def read_some(self, size: int) -> bytes:
        if self.pending:
            head, self.pending = self.pending[:size], self.pending[size:]
            return head
        return await self.inner.read_some(size)


async def _headers(reader: _Buffered) -> int | None:
    """Read one header block; its Content-Length (-1 when the block was unusable), None at end of input."""
    length: int | None = None
    lines = 0
    while True:
        line = await reader.readline(MAX_HEADER_LINE + 1)
        if not line:
            return None
        lines += 1
        if len(line) > MAX_HEADER_LINE or lines > MAX_HEADER_LINES:
            log.warning("dropped an oversize header; looking for the next message")
            found = await _resync(reader)
            if found is None:
                return None
            reader.pending = found + reader.pending
            length, lines = None, 0
            continue
        if not line.strip():
            if length is None:
                if lines > 1:
                    log.warning("dropped a header block without Content-Length")
                lines = 0
                continue
            return length
        match = _HEADER.fullmatch(line)
        if match:
            length = int(match.group(1))
        elif (match := _HEADER.search(line)) is not None:
            # the rest of a body shorter than its Content-Length said, then the next header: resynchronise
            log.warning("framing lost (a Content-Length shorter than its body?); resynchronised")
            length, lines = int(match.group(1)), 1
        elif not _ANY_HEADER.fullmatch(line):
            log.warning("dropped a line that is not a header")


async def serve(stop: threading.Event, reader: Reader, protocol: JsonRPCProtocol) -> None:
    """Read and dispatch messages until end of input or `stop`; only the end of input ends it."""
    source = _Buffered(reader)
    while not stop.is_set():
        length = await _headers(source)
        if length is None:
            return
        if length > MAX_BODY:
            prefix = await source.read_some(_SNIFF)
            msg_id = sniff_id(prefix)
            while msg_id is None and len(prefix) < _SNIFF and not _HEADER.search(prefix):
                more = await source.read_some(_SNIFF - len(prefix))
                if not more:
                    break
                prefix += more
                msg_id = sniff_id(prefix)
            source.pending = prefix + source.pending  # it may hold the next messages too: scan it again
            log.warning("dropped a %d-byte message (limit %d bytes), id %r", length, MAX_BODY, msg_id)
            _error(protocol, msg_id, JsonRpcInvalidRequest(f"message of {length} bytes exceeds the {MAX_BODY}-byte limit"))
            found = await _resync(source)
            if found is None:
                return
            source.pending = found + source.pending
            continue
        body = await source.read_exactly(length)
        if len(body) < length:
            return
        try:
            dispatch(protocol, body)
        except Exception:  # a handler bug must cost one message, not the server
            log.exception("unable to handle a message")
