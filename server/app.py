"""The VeriFrag language server: LSP handlers wired to diagnostics, completion, generation and the model.

Handlers stay thin: they read the open document, hand work to the diagnostics scheduler (a thread) or
to the model worker (its own thread), and turn results into LSP types. Every request has an answer even
for unknown documents or positions past the end, so a confused client never stalls the server.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import sys
import threading
import uuid
from pathlib import Path
from typing import Any, BinaryIO

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams, JsonRpcServerNotInitialized
from pygls.io_ import StdoutWriter
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol

from verifrag import __version__
from verifrag.errors import UserError
from verifrag.server import completion, generation, transport
from verifrag.server.config import ServerConfig, settings_section, update_config
from verifrag.server.diagnostics import DiagnosticsScheduler
from verifrag.server.documents import Lines
from verifrag.server.model_worker import DIAGNOSTICS_ONLY, Cancelled, CancelToken, ModelState, ModelWorker
from verifrag.syntax.identifiers import identifiers_at
from verifrag.syntax.source import sanitize

log = logging.getLogger(__name__)

GENERATE_MODULE = "verifrag.generateModule"
STATUS = "verifrag/status"
COMPLETION_STATS = "verifrag/completionStats"

_WORD_BEFORE = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*$")
_ITEM_KIND = {
    "module": types.CompletionItemKind.Module,
    "port": types.CompletionItemKind.Field,
    "parameter": types.CompletionItemKind.Constant,
    "signal": types.CompletionItemKind.Variable,
    "instance": types.CompletionItemKind.Reference,
}


class VeriFragProtocol(LanguageServerProtocol):
    """pygls' protocol with three repairs: `$/cancelRequest` also sets a started model job's cancel
    token (pygls cancels a future only before it starts); requests before `initialize` get `-32002`
    (pygls runs them and answers with a traceback); and no error answer carries a traceback."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initialize_seen = False

    def _handle_cancel_notification(self, msg_id: Any) -> None:
        self._server.cancel_request(msg_id)
        super()._handle_cancel_notification(msg_id)

    def handle_message(self, message: Any) -> None:
        method = getattr(message, "method", None)
        if not self.initialize_seen and method not in (types.INITIALIZE, types.EXIT):
            if method is not None and getattr(message, "id", None) is not None:
                error = JsonRpcServerNotInitialized(f"{method} before initialize")
                self._send_response(message.id, None, error.to_response_error())
            return  # notifications before initialize are dropped, as LSP says
        if method == types.INITIALIZE:
            self.initialize_seen = True
        super().handle_message(message)

    def _send_response(self, msg_id: Any, result: Any = None, error: types.ResponseError | None = None) -> None:
        if error is not None and isinstance(error.data, dict) and "traceback" in error.data:
            log.error("request %r failed: %s\n%s", msg_id, error.message, "".join(error.data["traceback"]))
            error = types.ResponseError(code=error.code, message=error.message)
        super()._send_response(msg_id, result, error)


class VeriFragServer(LanguageServer):
    def __init__(self, config: ServerConfig) -> None:
        super().__init__(
            "verifrag",
            __version__,
            # Full sync: the client sends the whole text, so no incremental edit can be applied with line
            # breaks counted differently from the client's (random text may hold U+2028 or form feeds).
            text_document_sync_kind=types.TextDocumentSyncKind.Full,
            protocol_cls=VeriFragProtocol,
        )
        self.config = config
        self.worker: ModelWorker | None = None
        self.requests: dict[Any, CancelToken] = {}  # JSON-RPC id -> token of a model job in flight
        self.latest: dict[str, CancelToken] = {}  # document -> its newest completion's token
        self.generation: CancelToken | None = None  # the module generation in flight: a newer one supersedes it
        self.diagnostics = DiagnosticsScheduler(self._publish, self.snapshot, self.open_texts, self.root, self.warn)

    # transport -----------------------------------------------------------------------------------
    def report_server_error(self, error: Exception, source: Any) -> None:
        """Log, never pop up: pygls would show every bad message from a client as an error window."""
        log.error("server error (%s): %s", getattr(source, "__name__", source), error)

    def start_io(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
        """pygls' stdio server with the bounded reader of `transport`."""
        self._stop_event = threading.Event()
        self.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
        try:
            asyncio.run(transport.serve(self._stop_event, transport.StdinReader(stdin or sys.stdin.buffer), self.protocol))
        except BrokenPipeError:
            log.error("the client closed the connection")
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            self.shutdown()

    def start_tcp(self, host: str, port: int) -> None:
        """pygls' TCP server with the bounded reader of `transport`; one client at a time."""
        self._stop_event = stop = threading.Event()

        async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.protocol.set_writer(writer)  # type: ignore[arg-type]
            await transport.serve(stop, transport.StreamReader(reader), self.protocol)
            self.shutdown()

        async def main() -> None:
            self._server = await asyncio.start_server(connection, host, port, limit=transport.MAX_HEADER_LINE * 2)
            async with self._server:
                await self._server.serve_forever()

        try:
            asyncio.run(main())
        except (asyncio.CancelledError, KeyboardInterrupt, SystemExit):
            pass
        finally:
            self.shutdown()

    # documents -----------------------------------------------------------------------------------
    def snapshot(self, uri: str) -> tuple[int | None, str] | None:
        document = self.workspace.text_documents.get(uri)
        return None if document is None else (document.version, document.source)

    def root(self) -> Path:
        """The workspace root folder (relative include directories start there), else the server's cwd."""
        root = self.workspace.root_path if self.protocol.initialize_seen else None
        return Path(root) if root else Path.cwd()

    def warn(self, message: str) -> None:
        self.window_show_message(types.ShowMessageParams(type=types.MessageType.Warning, message=message))

    def open_texts(self) -> dict[str, str]:
        return {uri: doc.source for uri, doc in self.workspace.text_documents.items()}

    def _publish(self, uri: str, version: int | None, diagnostics: list[types.Diagnostic]) -> None:
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=version)
        )

    # model ---------------------------------------------------------------------------------------
    def cancel_request(self, msg_id: Any) -> None:
        token = self.requests.get(msg_id)
        if token is not None:
            token.cancel()

    def track(self, token: CancelToken) -> Any:
        """Register `token` under the current request's id so `$/cancelRequest` reaches it."""
        msg_id = self.protocol.msg_id
        if msg_id is not None:
            self.requests[msg_id] = token
        return msg_id

    def on_model_state(self, state: ModelState) -> None:
        self.protocol.notify(STATUS, {"state": state.state, "message": state.message})
        if state.state == DIAGNOSTICS_ONLY and state.message.startswith("VeriFrag could not load"):
            self.window_show_message(types.ShowMessageParams(type=types.MessageType.Error, message=state.message))

    def supports_progress(self) -> bool:
        window = self.client_capabilities.window
        return bool(window and window.work_done_progress)

    async def start_progress(self, title: str, cancellable: bool) -> str | None:
        """A server-initiated `$/progress` token, or None if the client cannot show progress."""
        if not self.supports_progress():
            return None
        token = f"verifrag-{uuid.uuid4()}"
        try:
            await self.work_done_progress.create_async(token)
        except Exception:  # the client refused: work goes on without a progress bar
            log.info("client refused progress token", exc_info=True)
            return None
        self.work_done_progress.begin(token, types.WorkDoneProgressBegin(title=title, cancellable=cancellable))
        return token

    def end_progress(self, token: str | None, message: str) -> None:
        if token is not None:
            self.work_done_progress.end(token, types.WorkDoneProgressEnd(message=message))

    async def load_model(self) -> None:
        """Start (or switch) the model in the background; diagnostics never wait for it."""
        assert self.worker is not None
        future = self.worker.configure(self.config)
        if future is None:
            return
        progress = await self.start_progress("VeriFrag: loading model", cancellable=False)
        await asyncio.wrap_future(future)
        self.end_progress(progress, self.worker.state.message)


def create_server(config: ServerConfig) -> VeriFragServer:
    """A server with all features registered; `config` holds the command line's defaults."""
    ls = VeriFragServer(config)

    @ls.feature(types.INITIALIZE)
    def initialize(ls: VeriFragServer, params: types.InitializeParams) -> None:
        ls.config, problems = update_config(ls.config, params.initialization_options)
        for problem in problems:
            log.warning(problem)
        ls.worker = ModelWorker(asyncio.get_running_loop(), ls.on_model_state)

    @ls.feature(types.INITIALIZED)
    async def initialized(ls: VeriFragServer, params: types.InitializedParams) -> None:
        await ls.load_model()

    @ls.feature(types.SHUTDOWN)
    def shutdown(ls: VeriFragServer, params: None) -> None:
        if ls.worker is not None:
            ls.worker.shutdown()
        ls.diagnostics.close()

    @ls.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(ls: VeriFragServer, params: types.DidChangeConfigurationParams) -> None:
        before = ls.config
        ls.config, problems = update_config(ls.config, settings_section(params.settings))
        for problem in problems:
            ls.window_log_message(types.LogMessageParams(type=types.MessageType.Warning, message=problem))
        if before.features.diagnostics and not ls.config.features.diagnostics:
            ls.diagnostics.clear_all(list(ls.workspace.text_documents))
        elif ls.config.features.diagnostics and (
            not before.features.diagnostics
            or (before.include_dirs, before.library_dirs) != (ls.config.include_dirs, ls.config.library_dirs)
        ):
            await ls.diagnostics.elaborate(ls.config)
        if (before.model_key, before.wants_model) != (ls.config.model_key, ls.config.wants_model):
            await ls.load_model()

    @ls.feature(types.TEXT_DOCUMENT_DID_OPEN)
    async def did_open(ls: VeriFragServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.diagnostics.changed(params.text_document.uri, ls.config)  # parse errors at once, even if elaboration is slow
        await ls.diagnostics.elaborate(ls.config)

    @ls.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: VeriFragServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.diagnostics.changed(params.text_document.uri, ls.config)

    @ls.feature(types.TEXT_DOCUMENT_DID_SAVE)
    async def did_save(ls: VeriFragServer, params: types.DidSaveTextDocumentParams) -> None:
        await ls.diagnostics.elaborate(ls.config)

    @ls.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: VeriFragServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        token = ls.latest.pop(uri, None)
        if token is not None:
            token.cancel()
        ls.diagnostics.closed(uri)

    async def suggestion(uri: str, position: types.Position, invoked: bool) -> tuple[completion.Suggestion | None, int]:
        """The model's suggestion at a position (None when there is none to give) and the str offset of
        the position, clamped into the text. A newer request for the same document supersedes this one."""
        snapshot = ls.snapshot(uri)
        if snapshot is None:
            return None, 0
        text = sanitize(snapshot[1])  # lone surrogates (legal in JSON) would stop the tokenizer
        offset = Lines.of(text).offset(position.line, position.character)
        if ls.worker is None or not ls.worker.ready:
            return None, offset
        token = CancelToken()
        previous = ls.latest.get(uri)
        if previous is not None:
            previous.cancel()
        ls.latest[uri] = token
        msg_id = ls.track(token)
        config = ls.config

        def job(engine) -> completion.Suggestion:
            count = lambda s: len(engine.lm.tokenizer(s, add_special_tokens=False)["input_ids"])  # noqa: E731
            context = completion.cursor_context(text, offset, config.context_tokens, count)
            return completion.suggest(engine, context, config, invoked, token)

        try:
            result = await ls.worker.run(job, token, urgent=True)
        except Cancelled:
            return None, offset
        except UserError as exc:  # e.g. settings the loaded model cannot honour
            log.warning("no suggestion: %s", exc)
            return None, offset
        finally:
            ls.requests.pop(msg_id, None)
            if ls.latest.get(uri) is token:
                del ls.latest[uri]
        if result.stats.prompt_tokens:  # the model ran (its answer may have come from the prompt pass alone)
            ls.protocol.notify(
                COMPLETION_STATS,
                {
                    "latencyMs": round(result.latency_ms, 1),
                    "tokensPerSecond": round(result.stats.tokens_per_s, 1),
                    "newTokens": result.stats.new_tokens,
                    "decoder": result.stats.decoder,
                },
            )
            log.info(
                "completion latency_ms=%.1f new_tokens=%d prompt_tokens=%d reused_prompt_tokens=%d",
                result.latency_ms, result.stats.new_tokens, result.stats.prompt_tokens, result.stats.reused_prompt_tokens,
            )
        return (result if result.text else None), offset

    @ls.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(ls: VeriFragServer, params: types.InlineCompletionParams) -> types.InlineCompletionList:
        if not ls.config.features.inline_completion:
            return types.InlineCompletionList(items=[])
        invoked = params.context.trigger_kind == types.InlineCompletionTriggerKind.Invoked
        result, offset = await suggestion(params.text_document.uri, params.position, invoked)
        if result is None:
            return types.InlineCompletionList(items=[])
        snapshot = ls.snapshot(params.text_document.uri)
        line, character = Lines.of(snapshot[1] if snapshot else "").position(offset)
        at = types.Position(line=line, character=character)
        return types.InlineCompletionList(
            items=[types.InlineCompletionItem(insert_text=result.text, range=types.Range(start=at, end=at))]
        )

    @ls.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=[".", "(", " "]))
    async def complete(ls: VeriFragServer, params: types.CompletionParams) -> types.CompletionList:
        uri = params.text_document.uri
        snapshot = ls.snapshot(uri)
        if snapshot is None or not ls.config.features.completion:
            return types.CompletionList(is_incomplete=False, items=[])
        text = snapshot[1]
        lines = Lines.of(text)
        offset = lines.offset(params.position.line, params.position.character)
        line, character = lines.position(offset)
        word = _WORD_BEFORE.search(lines.line_text(line)[: offset - lines.starts[line]])
        typed = word.group(0) if word else ""
        names = await asyncio.to_thread(identifiers_at, text, offset)
        items = [
            types.CompletionItem(label=name.name, kind=_ITEM_KIND[name.kind], detail=name.kind, sort_text=f"1{name.name}")
            for name in names
        ]
        result, _ = await suggestion(uri, params.position, invoked=False)
        if result is not None:
            start = lines.position(offset - len(typed))
            edit_range = types.Range(
                start=types.Position(line=start[0], character=start[1]),
                end=types.Position(line=line, character=character),
            )
            new_text = typed + result.text
            items.insert(0, types.CompletionItem(
                label=new_text.strip().split("\n", 1)[0][:80] or new_text,
                kind=types.CompletionItemKind.Text,
                detail="VeriFrag model suggestion",
                sort_text="0",
                filter_text=new_text,
                text_edit=types.TextEdit(range=edit_range, new_text=new_text),
            ))
        return types.CompletionList(is_incomplete=result is not None, items=items)

    @ls.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.RefactorRewrite]),
    )
    def code_action(ls: VeriFragServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        snapshot = ls.snapshot(params.text_document.uri)
        if snapshot is None or not ls.config.features.module_generation:
            return []
        line = params.range.start.line
        if generation.comment_block(snapshot[1], line) is None:
            return []
        argument = {"uri": params.text_document.uri, "line": line}
        command = types.Command(title="VeriFrag: generate module from comment", command=GENERATE_MODULE, arguments=[argument])
        return [types.CodeAction(title=command.title, kind=types.CodeActionKind.RefactorRewrite, command=command)]

    @ls.command(GENERATE_MODULE)
    async def generate_module(ls: VeriFragServer, *arguments: Any) -> dict[str, Any]:
        uri, line = _command_target(arguments)
        return await _generate(ls, uri, line)

    return ls


def _command_target(arguments: tuple[Any, ...]) -> tuple[str, int]:
    """`{"uri": str, "line": int}` from the command's one argument, or an InvalidParams error."""
    target = arguments[0] if len(arguments) == 1 else None
    if not isinstance(target, dict) or not isinstance(target.get("uri"), str):
        raise JsonRpcInvalidParams(f'{GENERATE_MODULE} takes one argument {{"uri": string, "line": integer}}')
    line = target.get("line")
    if isinstance(line, bool) or not isinstance(line, int) or line < 0:
        raise JsonRpcInvalidParams(f"{GENERATE_MODULE}: line must be a non-negative integer, not {line!r}")
    return target["uri"], line


def _outcome(applied: bool, parses: bool, message: str) -> dict[str, Any]:
    return {"applied": applied, "parses": parses, "message": message}


async def _generate(ls: VeriFragServer, uri: str, line: int) -> dict[str, Any]:
    """Generate, check and insert one module below the comment block at `line`."""
    snapshot = ls.snapshot(uri)
    if snapshot is None:
        return _outcome(False, False, f"{uri} is not open")
    if not ls.config.features.module_generation:
        return _outcome(False, False, "module generation is switched off")
    if ls.worker is None or not ls.worker.ready:
        state = ls.worker.state if ls.worker else None
        return _outcome(False, False, f"the model is not ready ({state.state if state else 'starting'})")
    version, text = snapshot[0], sanitize(snapshot[1])
    block = generation.comment_block(text, line)
    if block is None:
        return _outcome(False, False, f"no comment block at line {line + 1}")
    token = CancelToken()
    if ls.generation is not None:
        ls.generation.cancel("superseded by a newer generation request")
    ls.generation = token
    msg_id = ls.track(token)
    progress = await ls.start_progress("VeriFrag: generating module", cancellable=True)
    if progress is not None:
        ls.work_done_progress.tokens[progress].add_done_callback(lambda _: token.cancel())
    try:
        result, note = await _decode_module(ls, block, token, progress)
    except Cancelled:
        result, note = None, None
    except UserError as exc:
        ls.end_progress(progress, str(exc))
        return _outcome(False, False, f"module generation failed: {exc}")
    finally:
        ls.requests.pop(msg_id, None)
        if ls.generation is token:
            ls.generation = None
    if result is None or token.cancelled:
        ls.end_progress(progress, token.reason)
        return _outcome(False, False, f"module generation was {token.reason}")
    current = ls.snapshot(uri)
    if current is None or current[0] != version:
        ls.end_progress(progress, "document changed")
        return _outcome(False, result.parses, "the document changed during generation; nothing was inserted")
    edit = _insertion(text, block, result.text)
    response = await ls.workspace_apply_edit_async(
        types.ApplyWorkspaceEditParams(edit=types.WorkspaceEdit(changes={uri: [edit]}), label="VeriFrag: generate module")
    )
    if result.parses:
        message = f"inserted a module that parses ({result.new_tokens} tokens, stop: {result.stop_reason})"
    else:
        first = result.errors[0] if result.errors else "no endmodule"
        message = f"inserted a module that does NOT parse ({first}; stop: {result.stop_reason})"
        ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Warning, message=f"VeriFrag: {message}"))
    if not response.applied:
        message = f"the editor did not apply the edit ({response.failure_reason or 'no reason given'})"
    if note is not None:
        message = f"{message}; {note}"
    ls.end_progress(progress, message)
    return _outcome(bool(response.applied), result.parses, message)


async def _decode_module(
    ls: VeriFragServer, block: generation.CommentBlock, token: CancelToken, progress: str | None
) -> tuple[generation.GeneratedModule, str | None]:
    """Decode a module in stretches: each stretch ends when an inline completion is waiting, which then
    runs before the next stretch (ghost text never waits for a generation). Progress says so."""
    assert ls.worker is not None
    config = dataclasses.replace(ls.config)
    prompt = await ls.worker.run(lambda engine: generation.build_prompt(engine, block, config), token)
    if prompt.note is not None:
        ls.window_log_message(types.LogMessageParams(type=types.MessageType.Info, message=f"VeriFrag: {prompt.note}"))
    loop = asyncio.get_running_loop()
    generated, new_tokens, reported = "", 0, [0]

    def on_text(text: str) -> None:  # model thread: throttle, then hop to the loop to notify
        length = len(generated) + len(text)
        if progress is not None and length - reported[0] >= 80:
            reported[0] = length
            report = types.WorkDoneProgressReport(message=f"{length} characters")
            loop.call_soon_threadsafe(ls.work_done_progress.report, progress, report)

    while True:
        remaining = prompt.max_new_tokens - new_tokens
        part = await ls.worker.run(
            lambda engine: generation.decode_part(engine, prompt.text + generated, remaining, config, token,
                                                  lambda: ls.worker is not None and ls.worker.urgent_waiting, on_text),
            token,
        )
        generated, new_tokens = generated + part.text, new_tokens + part.new_tokens
        if not part.preempted or new_tokens >= prompt.max_new_tokens:
            break
        if progress is not None:
            report = types.WorkDoneProgressReport(message=f"{len(generated)} characters (paused for an inline completion)")
            ls.work_done_progress.report(progress, report)
    return generation.finish(prompt, generated, part.stop_reason, new_tokens), prompt.note


def _insertion(text: str, block: generation.CommentBlock, module: str) -> types.TextEdit:
    """Insert the module on the line below the comment block (after the text's end if there is none)."""
    lines = Lines.of(text)
    below = block.last_line + 1
    if below < len(lines.starts):
        at, new_text = types.Position(line=below, character=0), module + "\n"
    else:
        end_line, end_character = lines.end
        at, new_text = types.Position(line=end_line, character=end_character), "\n" + module + "\n"
    return types.TextEdit(range=types.Range(start=at, end=at), new_text=new_text)
