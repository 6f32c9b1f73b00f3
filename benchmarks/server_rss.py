"""Server memory and ghost-text latency during module generation from a 100 KB comment (issue 13's case).

What it does: starts `python -m verifrag.server` (stdio) with the bundled default model and default
settings, waits for `verifrag/status` "ready", opens a file whose first 100 KB are one comment block,
and asks for `verifrag.generateModule` on it. While that runs it times one automatic inline completion
and then sends a second generation (which supersedes the first), answers the server's own requests as
an editor does (`workspace/applyEdit` applied, progress tokens accepted), and samples the resident
memory of the server and of its children (the elaboration worker) every 0.1 s until the second
generation answers. The server's peak is also read from the kernel (`VmHWM`), which catches what the
sampling misses.

Run: python benchmarks/server_rss.py [--comment-kb 100]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil

MIB = 1024 * 1024


class Client:
    """The server process over stdio: framed messages out, a reader thread for messages in."""

    def __init__(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "verifrag.server"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.messages: list[dict[str, Any]] = []
        self.arrived = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def _read(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while True:
            length = None
            while (line := stream.readline()).strip() or length is None:
                if not line:
                    return
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            message = json.loads(stream.read(length))
            if "method" in message and "id" in message:  # the server asks: answer as an editor would
                applied = {"applied": True} if message["method"] == "workspace/applyEdit" else None
                self.send({"id": message["id"], "result": applied})
            with self.arrived:
                self.messages.append(message)
                self.arrived.notify_all()

    def wait(self, condition: Any, timeout: float = 3600) -> dict[str, Any]:
        with self.arrived:
            found = self.arrived.wait_for(lambda: next((m for m in self.messages if condition(m)), None), timeout)
        if found is None:
            raise SystemExit(f"server_rss: nothing arrived in {timeout:.0f} s")
        return found

    def answered(self, msg_id: Any) -> bool:
        return any(m.get("id") == msg_id and "method" not in m for m in self.messages)


def comment(kilobytes: int) -> str:
    lines, n = [], 0
    while sum(map(len, lines)) < kilobytes * 1000:
        lines.append(f"// requirement {n}: output y{n} follows input a{n} when enable is high, else holds\n")
        n += 1
    return "".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--comment-kb", type=int, default=100)
    args = parser.parse_args()

    client = Client()
    server = psutil.Process(client.process.pid)
    capabilities = {"window": {"workDoneProgress": True}}
    client.send({"id": "init", "method": "initialize",
                 "params": {"processId": None, "rootUri": None, "capabilities": capabilities}})
    client.wait(lambda m: m.get("id") == "init")
    client.send({"method": "initialized", "params": {}})
    ready = client.wait(lambda m: m.get("method") == "verifrag/status" and m["params"]["state"] != "loading")
    if ready["params"]["state"] != "ready":
        raise SystemExit(f"server_rss: the model is not ready: {ready['params']}")
    idle_mib = server.memory_info().rss / MIB

    uri = "file:///bench/huge-comment.v"
    text = comment(args.comment_kb) + "\nmodule top(input a, output y);\n  assign y = \n"
    code_line = text.count("\n") - 1
    client.send({"method": "textDocument/didOpen",
                 "params": {"textDocument": {"uri": uri, "languageId": "verilog", "version": 1, "text": text}}})
    generate = {"method": "workspace/executeCommand",
                "params": {"command": "verifrag.generateModule", "arguments": [{"uri": uri, "line": 0}]}}

    peak = {"server": 0.0, "tree": 0.0}

    def sample() -> None:
        rss = server.memory_info().rss
        children = sum(child.memory_info().rss for child in server.children(recursive=True))
        peak["server"] = max(peak["server"], rss / MIB)
        peak["tree"] = max(peak["tree"], (rss + children) / MIB)

    started = time.monotonic()
    client.send({"id": "first", **generate})
    client.wait(lambda m: m.get("method") == "$/progress" and m["params"]["value"].get("kind") == "report")
    asked = time.monotonic()
    client.send({"id": "inline", "method": "textDocument/inlineCompletion",
                 "params": {"textDocument": {"uri": uri}, "position": {"line": code_line, "character": 13},
                            "context": {"triggerKind": 2}}})
    while not client.answered("inline"):
        sample()
        time.sleep(0.1)
    inline_s = time.monotonic() - asked
    client.send({"id": "second", **generate})
    while not client.answered("second"):
        sample()
        time.sleep(0.1)
    total_s = time.monotonic() - started
    first = client.wait(lambda m: m.get("id") == "first" and "method" not in m)
    second = client.wait(lambda m: m.get("id") == "second" and "method" not in m)
    hwm_mib = int(next(line for line in Path(f"/proc/{server.pid}/status").read_text().splitlines()
                       if line.startswith("VmHWM:")).split()[1]) / 1024
    client.send({"id": "shutdown", "method": "shutdown"})
    client.wait(lambda m: m.get("id") == "shutdown")
    client.send({"method": "exit"})
    client.process.wait(60)

    print(f"comment: {len(text) // 1000} KB, {text.count(chr(10))} lines")
    print(f"server RSS when ready: {idle_mib:.0f} MiB")
    print(f"server RSS peak (VmHWM): {hwm_mib:.0f} MiB; sampled peak: server {peak['server']:.0f} MiB, "
          f"server + children {peak['tree']:.0f} MiB")
    print(f"inline completion during the generation: {inline_s:.2f} s")
    print(f"both generations answered after {total_s:.1f} s")
    print(f"first: {first.get('result', first.get('error'))}")
    print(f"second: {second.get('result', second.get('error'))}")


if __name__ == "__main__":
    main()
