"""Publishing pyslang diagnostics: parse diagnostics after each edit, semantic ones on open and save.

Parse diagnostics are debounced per document, and a result is published only if the document is still
at the version it was computed for, so the newest text always wins over a slow older parse. They run
in a thread of the server: parsing is fast even on pathological text.

Semantic diagnostics elaborate every open document together (plus the configured include and library
directories), so a module used in one file and declared in another resolves. Elaboration is not always
fast or safe (minutes, or a segfault, on one 50,000-operand expression), so it runs in a limited child
process (`elaboration`). Rounds are coalesced: while one runs, only the newest waiting round runs next.
When the child fails, each document gets its parse diagnostics plus one note saying why the semantic
check is missing. Relative include and library directories resolve against the workspace root; missing
ones are skipped with one warning each.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Callable, Iterable, Mapping

from lsprotocol import types

from verifrag.server.config import ServerConfig
from verifrag.server.elaboration import Elaborator, Failure
from verifrag.syntax.diagnostics import Diagnostic, parse_diagnostics


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


def resolve_dirs(directories: Iterable[str], root: Path) -> tuple[list[str], list[str]]:
    """(existing directories as absolute paths, the ones given that do not exist); relative ones are
    taken from `root`."""
    found: list[str] = []
    missing: list[str] = []
    for directory in directories:
        path = Path(directory).expanduser()
        path = path if path.is_absolute() else root / path
        if path.is_dir():
            found.append(str(path))
        else:
            missing.append(directory)
    return found, missing


def _fallback_note(reason: str) -> types.Diagnostic:
    return types.Diagnostic(
        range=types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)),
        message=f"VeriFrag: no semantic check for this file ({reason}); showing syntax errors only",
        severity=types.DiagnosticSeverity.Information,
        code="SemanticCheckFailed",
        source="verifrag",
    )


def _parse_all(documents: Mapping[str, str], reasons: Mapping[str, str]) -> dict[str, list[types.Diagnostic]]:
    return {uri: [*parse_now(uri, text), _fallback_note(reasons[uri])] for uri, text in documents.items()}


class DiagnosticsScheduler:
    def __init__(
        self,
        publish: Publisher,
        snapshot: Snapshot,
        open_documents: Callable[[], Mapping[str, str]],
        root: Callable[[], Path],
        warn: Callable[[str], None],
    ) -> None:
        self._publish = publish
        self._snapshot = snapshot
        self._open_documents = open_documents
        self._root = root
        self._warn = warn
        self._warned: set[str] = set()
        self._pending: dict[str, asyncio.Task] = {}
        self._semantic_round = 0
        self._semantic_shown: dict[str, int | None] = {}  # uri -> version whose semantic result is shown
        self.elaborator = Elaborator()
        self._round_lock = asyncio.Lock()
        self._quarantine: dict[str, tuple[int | None, str]] = {}  # uri -> (version, why it cannot elaborate)

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
        # a semantic result for the same version already holds these errors and more: keep it
        if current is not None and current[0] == version and self._semantic_shown.get(uri) != version:
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
        include_dirs = self._directories(config.include_dirs, "include")
        library_dirs = self._directories(config.library_dirs, "library")
        async with self._round_lock:  # the round running finishes first; rounds queued behind it coalesce
            if round_ != self._semantic_round:
                return
            documents = dict(self._open_documents())
            versions = {uri: (self._snapshot(uri) or (None, ""))[0] for uri in documents}
            failures = self._quarantined(versions)
            healthy = {uri: text for uri, text in documents.items() if uri not in failures}
            outcome = await self.elaborator.run(healthy, include_dirs, library_dirs) if healthy else {}
            if isinstance(outcome, Failure) and len(healthy) > 1:
                failures.update(await self._isolate(healthy, versions, include_dirs, library_dirs))
                healthy = {uri: text for uri, text in healthy.items() if uri not in failures}
                outcome = await self.elaborator.run(healthy, include_dirs, library_dirs) if healthy else {}
            if isinstance(outcome, Failure):
                if len(healthy) == 1:
                    self._quarantine[next(iter(healthy))] = (versions[next(iter(healthy))], outcome.reason)
                failures.update({uri: outcome.reason for uri in healthy})
                outcome = {}
            results = {uri: [to_lsp(record) for record in outcome.get(uri, [])] for uri in healthy if uri not in failures}
            failed = {uri: documents[uri] for uri in failures}
            results.update(await asyncio.to_thread(_parse_all, failed, failures))
        if round_ != self._semantic_round:
            return
        for uri, diagnostics in results.items():
            current = self._snapshot(uri)
            if current is not None and current[0] == versions[uri]:
                self._semantic_shown[uri] = versions[uri]
                self._publish(uri, versions[uri], diagnostics)

    def _quarantined(self, versions: Mapping[str, int | None]) -> dict[str, str]:
        """Documents (uri -> why) that failed alone at their current version: they sit out the round."""
        for uri in [uri for uri, (version, _) in self._quarantine.items() if versions.get(uri, -1) != version]:
            del self._quarantine[uri]
        return {uri: reason for uri, (_, reason) in self._quarantine.items()}

    async def _isolate(
        self, documents: Mapping[str, str], versions: Mapping[str, int | None], include_dirs: list[str], library_dirs: list[str]
    ) -> dict[str, str]:
        """After a joint round failed: the documents that fail alone too (uri -> why), quarantined until
        their text changes, so one pathological file does not take every later round down with it."""
        failures: dict[str, str] = {}
        for uri, text in documents.items():
            alone = await self.elaborator.run({uri: text}, include_dirs, library_dirs)
            if isinstance(alone, Failure):
                self._quarantine[uri] = (versions[uri], alone.reason)
                failures[uri] = alone.reason
        return failures

    def _directories(self, directories: Iterable[str], kind: str) -> list[str]:
        """The configured directories that exist; one warning for each missing one, the first time."""
        found, missing = resolve_dirs(directories, self._root())
        for directory in missing:
            if directory not in self._warned:
                self._warned.add(directory)
                self._warn(f"VeriFrag: {kind} directory {directory!r} does not exist (relative to {self._root()}); skipped")
        return found

    def close(self) -> None:
        self.elaborator.close()

    def closed(self, uri: str) -> None:
        self._semantic_shown.pop(uri, None)
        self._quarantine.pop(uri, None)
        pending = self._pending.pop(uri, None)
        if pending is not None:
            pending.cancel()
        self._publish(uri, None, [])

    def clear_all(self, uris: list[str]) -> None:
        """Feature switched off: remove what was shown."""
        for uri in uris:
            self.closed(uri)
