"""Publishing pyslang diagnostics: parse diagnostics after each edit, semantic ones on open and save.

Parse diagnostics are debounced per document, and a result is published only if the document is still
at the version it was computed for, so the newest text always wins over a slow older parse. Semantic
diagnostics elaborate every open document together (plus the configured include and library
directories), so a module used in one file and declared in another resolves. Both run in a thread, off
the event loop, and neither touches the model's worker thread.
"""

from __future__ import annotations

import asyncio
from typing import Callable, Mapping

from lsprotocol import types

from verifrag.server.config import ServerConfig
from verifrag.syntax.diagnostics import Diagnostic, parse_diagnostics, semantic_diagnostics


_SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "note": types.DiagnosticSeverity.Information,
}

# (uri, version or None, diagnostics) -> None
Publisher = Callable[[str, "int | None", list[types.Diagnostic]], None]
# uri -> (version, text) of the open document, or None once closed
Snapshot = Callable[[str], "tuple[int | None, str] | None"]


def to_lsp(record: Diagnostic) -> types.Diagnostic:
    return types.Diagnostic(
        range=types.Range(
            start=types.Position(line=record.line, character=record.column),
            end=types.Position(line=record.end_line, character=record.end_column),
        ),
        message=record.message,
        severity=_SEVERITY.get(record.severity, types.DiagnosticSeverity.Hint),
        code=record.code,
        source="verifrag",
    )


def parse_now(uri: str, text: str) -> list[types.Diagnostic]:
    return [to_lsp(record) for record in parse_diagnostics(text, uri)]


def semantic_now(documents: Mapping[str, str], config: ServerConfig) -> dict[str, list[types.Diagnostic]]:
    """Every open document's diagnostics from one compilation (a document pyslang cannot parse gets one
    "Unparsable" diagnostic and the others are still elaborated)."""
    by_uri = semantic_diagnostics(documents, config.include_dirs, config.library_dirs)
    return {uri: [to_lsp(record) for record in by_uri.get(uri, [])] for uri in documents}


class DiagnosticsScheduler:
    def __init__(self, publish: Publisher, snapshot: Snapshot, open_documents: Callable[[], Mapping[str, str]]) -> None:
        self._publish = publish
        self._snapshot = snapshot
        self._open_documents = open_documents
        self._pending: dict[str, asyncio.Task] = {}
        self._semantic_round = 0

    def changed(self, uri: str, config: ServerConfig) -> None:
        """Schedule parse diagnostics for the document's current text, replacing a pending run."""
        if not config.features.diagnostics:
            return
        previous = self._pending.pop(uri, None)
        if previous is not None:
            previous.cancel()
        self._pending[uri] = asyncio.ensure_future(self._parse_later(uri, config.debounce_ms / 1000))

    async def _parse_later(self, uri: str, delay: float) -> None:
        await asyncio.sleep(delay)
        snapshot = self._snapshot(uri)
        if snapshot is None:
            return
        version, text = snapshot
        diagnostics = await asyncio.to_thread(parse_now, uri, text)
        current = self._snapshot(uri)
        if current is not None and current[0] == version:
            self._publish(uri, version, diagnostics)
        if self._pending.get(uri) is asyncio.current_task():
            del self._pending[uri]

    async def elaborate(self, config: ServerConfig) -> None:
        """Semantic diagnostics for all open documents (on open and save); an older round that finishes
        after a newer one started is dropped."""
        if not config.features.diagnostics:
            return
        self._semantic_round += 1
        round_ = self._semantic_round
        documents = dict(self._open_documents())
        versions = {uri: (self._snapshot(uri) or (None, ""))[0] for uri in documents}
        results = await asyncio.to_thread(semantic_now, documents, config)
        if round_ != self._semantic_round:
            return
        for uri, diagnostics in results.items():
            current = self._snapshot(uri)
            if current is not None and current[0] == versions[uri]:
                self._publish(uri, versions[uri], diagnostics)

    def closed(self, uri: str) -> None:
        pending = self._pending.pop(uri, None)
        if pending is not None:
            pending.cancel()
        self._publish(uri, None, [])

    def clear_all(self, uris: list[str]) -> None:
        """Feature switched off: remove what was shown."""
        for uri in uris:
            self.closed(uri)
