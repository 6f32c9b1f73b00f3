"""Shared pieces of the language-server tests (no tests here): a tiny random checkpoint, the server
command, and a session helper that records `verifrag/status` and waits for diagnostics.

The tiny checkpoint has the bundled tokenizer (so `[FRAG]` and Verilog tokenisation are real) over a
one-layer random Llama, so a test gets a real model load and real decoding in well under a second.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

from lsprotocol import types

SERVER = [sys.executable, "-m", "verifrag.server"]
WAIT_S = 120  # a hang guard, not a speed check: a loaded 2-core CPU can be slow
BROKEN = "module broken(input a, output y);\n  assign y = a &;\nendmodule\n"


def build_tiny_checkpoint(directory: Path) -> Path:
    """A valid VeriFrag checkpoint around a random 1-layer Llama (hidden size 32, 2 Medusa heads)."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from verifrag.model.checkpoint import DEFAULT_CHECKPOINT, CheckpointConfig, save_checkpoint
    from verifrag.model.heads import MedusaHeads
    from verifrag.model.tokenizer import add_frag_token

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(DEFAULT_CHECKPOINT, local_files_only=True)
    frag = add_frag_token(tokenizer)
    tokenizer.eos_token = "[FRAG]"
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=16384,
                         eos_token_id=frag)
    model = LlamaForCausalLM(config)
    # End of sequence is `[FRAG]`, which decoders ban for a checkpoint not trained with it: this model
    # never stops early, so a long request really runs long (cancellation tests).
    model.generation_config.eos_token_id = frag
    base = directory / "base"
    model.save_pretrained(base)
    tokenizer.save_pretrained(base)
    heads = MedusaHeads(32, 2, 1)
    for parameter in heads.parameters():
        torch.nn.init.normal_(parameter, std=0.2)
    checkpoint = directory / "checkpoint"
    save_checkpoint(checkpoint, CheckpointConfig(base_model=str(base), hidden_size=32, num_heads=2,
                                                 frag_token_id=frag), heads, tokenizer)
    return checkpoint


class Session:
    """Notifications a test waits for: model states, completion statistics and (pytest-lsp's) diagnostics."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.states: list[dict[str, Any]] = []
        self.stats: list[dict[str, Any]] = []
        self.edits: list[types.WorkspaceEdit] = []

        @client.feature("verifrag/status")
        def status(params: Any) -> None:
            self.states.append({"state": params.state, "message": params.message})

        @client.feature("verifrag/completionStats")
        def completion_stats(params: Any) -> None:
            self.stats.append({k: getattr(params, k) for k in ("latencyMs", "tokensPerSecond", "newTokens", "decoder")})

        @client.feature(types.WORKSPACE_APPLY_EDIT)
        def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
            self.edits.append(params.edit)
            return types.ApplyWorkspaceEditResult(applied=True)

    async def until(self, condition: Callable[[], bool]) -> None:
        """Poll `condition` while the client's event loop takes in notifications."""

        async def loop() -> None:
            while not condition():
                await asyncio.sleep(0.01)

        await asyncio.wait_for(loop(), WAIT_S)

    async def model_state(self, *wanted: str) -> dict[str, Any]:
        """Wait until the model leaves `loading`; return its state (which must be one of `wanted`)."""
        await self.until(lambda: bool(self.states) and self.states[-1]["state"] != "loading")
        assert self.states[-1]["state"] in wanted, self.states
        return self.states[-1]

    async def diagnostics(self, uri: str, condition: Callable[[Sequence[types.Diagnostic]], bool]) -> Sequence[types.Diagnostic]:
        await self.until(lambda: uri in self.client.diagnostics and condition(self.client.diagnostics[uri]))
        return self.client.diagnostics[uri]

    def open(self, uri: str, text: str, version: int = 1) -> None:
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(uri=uri, language_id="verilog", version=version, text=text)
            )
        )

    async def generate(self, uri: str, line: int, msg_id: str | None = None) -> Any:
        params = types.ExecuteCommandParams(command="verifrag.generateModule", arguments=[{"uri": uri, "line": line}])
        return await self.client.protocol.send_request_async(types.WORKSPACE_EXECUTE_COMMAND, params, msg_id=msg_id)

    def change(self, uri: str, text: str, version: int) -> None:
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )


async def start(client: Any, options: dict[str, Any] | None, capabilities: types.ClientCapabilities | None = None) -> Session:
    """Initialize a session (the fixture's client) with `initializationOptions`."""
    from pytest_lsp import client_capabilities

    session = Session(client)
    await client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities or client_capabilities("visual-studio-code"),
            initialization_options=options,
        )
    )
    return session


def frame(body: bytes) -> bytes:
    """One LSP message: the Content-Length header and the body."""
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


class RawServer:
    """The real server process driven byte by byte, for messages no well-behaved client library sends.

    A reader thread splits stdout into messages; `wait_for` blocks until one matches (a hang guard of
    `WAIT_S`, not a speed check)."""

    def __init__(self, args: Sequence[str] = ()) -> None:
        import subprocess
        import threading

        self.process = subprocess.Popen([*SERVER, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL)
        self.messages: list[dict[str, Any]] = []
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        import json

        stream = self.process.stdout
        assert stream is not None
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    return
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
                elif not line.strip() and length is not None:
                    break
            message = json.loads(stream.read(length))
            with self._changed:
                self.messages.append(message)
                self._changed.notify_all()

    def stop(self) -> None:
        """Kill the server if a test left it running (a test may also have killed it on purpose)."""
        if self.process.poll() is None:
            self.process.kill()

    def send_bytes(self, data: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(data)
        self.process.stdin.flush()

    def send(self, message: dict[str, Any]) -> None:
        import json

        self.send_bytes(frame(json.dumps({"jsonrpc": "2.0", **message}).encode()))

    def wait_for(self, condition: Callable[[dict[str, Any]], bool], after: int = 0) -> dict[str, Any]:
        """The first message (from index `after`) that satisfies `condition`."""
        import time

        deadline = time.monotonic() + WAIT_S
        with self._changed:
            while True:
                for message in self.messages[after:]:
                    if condition(message):
                        return message
                remaining = deadline - time.monotonic()
                assert remaining > 0 and self.process.poll() is None, (self.process.poll(), self.messages[-5:])
                self._changed.wait(min(remaining, 1.0))

    def answer(self, msg_id: Any) -> dict[str, Any]:
        return self.wait_for(lambda m: m.get("id") == msg_id and ("result" in m or "error" in m) and "method" not in m)

    def initialize(self, options: dict[str, Any] | None = None, msg_id: Any = "init") -> dict[str, Any]:
        self.send({"id": msg_id, "method": "initialize",
                   "params": {"processId": None, "rootUri": None, "capabilities": {}, "initializationOptions": options}})
        answer = self.answer(msg_id)
        self.send({"method": "initialized", "params": {}})
        return answer

    def open(self, uri: str, text: str, version: int = 1) -> None:
        self.send({"method": "textDocument/didOpen",
                   "params": {"textDocument": {"uri": uri, "languageId": "verilog", "version": version, "text": text}}})

    def diagnostics(self, uri: str, condition: Callable[[list[dict[str, Any]]], bool], after: int = 0) -> list[dict[str, Any]]:
        """The first diagnostics published for `uri` (among messages from index `after`) that satisfy `condition`."""
        found = self.wait_for(lambda m: m.get("method") == "textDocument/publishDiagnostics"
                              and m["params"]["uri"] == uri and condition(m["params"]["diagnostics"]), after)
        return found["params"]["diagnostics"]

    def close(self) -> int:
        """shutdown, exit, and the exit status."""
        if self.process.poll() is None:
            self.send({"id": "shutdown", "method": "shutdown"})
            self.answer("shutdown")
            self.send({"method": "exit"})
        try:
            return self.process.wait(WAIT_S)
        finally:
            if self.process.poll() is None:
                self.process.kill()
