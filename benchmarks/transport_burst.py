"""How long the language server's message loop takes to read a burst of full-text `didChange`s.

Fast typing sends one full-text `didChange` per character; an editor then asks for an inline completion,
which waits behind every change sent before it. This times `server/transport.serve` reading such a burst
from a buffered binary stream (as stdin is), each body parsed as JSON and otherwise dropped. asyncio's
start-up and shutdown are taken out by timing a burst and eleven times that burst and keeping the
difference, so what is left is the loop's own cost per burst (median of 7 runs each).

Run: python benchmarks/transport_burst.py [--messages 60] [--text-bytes 6000]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import statistics
import threading
import time

from verifrag.server import transport


def did_change(version: int, text: str) -> bytes:
    body = json.dumps({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
        "textDocument": {"uri": "file:///typed.v", "version": version}, "contentChanges": [{"text": text}]}}).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def read_seconds(stream: bytes, runs: int = 7) -> float:
    """Median wall time of `serve` over the whole of `stream`."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        asyncio.run(transport.serve(threading.Event(), transport.StdinReader(io.BufferedReader(io.BytesIO(stream))), None))
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=60, help="didChanges in a burst (default 60)")
    parser.add_argument("--text-bytes", type=int, default=6000, help="document size (default 6000)")
    args = parser.parse_args()
    text = ("    assign q = a & b;\n" * (args.text_bytes // 20 + 1))[: args.text_bytes]
    transport.dispatch = lambda protocol, body: json.loads(body)  # the handlers are not what is timed
    burst = b"".join(did_change(i, text) for i in range(args.messages))
    one, eleven = read_seconds(burst), read_seconds(burst * 11)
    print(f"{args.messages} didChanges of {args.text_bytes} bytes: {(eleven - one) / 10 * 1000:.1f} ms of the message loop")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
