"""Semantic elaboration, off the server process: one child (`elaboration_worker`) with CPU and memory
limits, started when first needed and again after it dies.

Jobs run one at a time. A job that crashes the child, passes its limits or outlives `WALL_SECONDS` (a
hang guard for a child stuck on I/O, e.g. an include of a FIFO) comes back as a `Failure` saying why,
and the next job starts a fresh child. The server keeps answering meanwhile: parse diagnostics never
come through here.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
from dataclasses import dataclass
from typing import Iterable, Mapping

from verifrag.syntax.diagnostics import Diagnostic

log = logging.getLogger(__name__)

CPU_SECONDS = 20
MEMORY_BYTES = 2 * 1024**3
WALL_SECONDS = 300
_LINE_LIMIT = 1024**3  # a reply for a few 10 MB documents is one long line


@dataclass(frozen=True)
class Failure:
    reason: str


def _death(returncode: int | None, cpu_seconds: int, memory_bytes: int) -> str:
    if returncode == -signal.SIGXCPU:
        return f"it used more than its {cpu_seconds} s of CPU time"
    if returncode in (-signal.SIGSEGV, -signal.SIGBUS, -signal.SIGABRT):
        return f"pyslang crashed ({signal.Signals(-returncode).name}; memory limit {memory_bytes // 1024**2} MiB)"
    return f"the elaboration process ended (exit status {returncode})"


class Elaborator:
    def __init__(self, cpu_seconds: int = CPU_SECONDS, memory_bytes: int = MEMORY_BYTES) -> None:
        self.cpu_seconds = cpu_seconds
        self.memory_bytes = memory_bytes
        self._process: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()
        self.starts = 0  # children started so far (a restart shows as a second start)

    async def _child(self) -> asyncio.subprocess.Process:
        if self._process is None or self._process.returncode is not None:
            self._process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "verifrag.server.elaboration_worker", str(self.memory_bytes),
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
                limit=_LINE_LIMIT,
            )
            self.starts += 1
        return self._process

    async def run(
        self, documents: Mapping[str, str], include_dirs: Iterable[str], library_dirs: Iterable[str]
    ) -> dict[str, list[Diagnostic]] | Failure:
        """Each document's semantic diagnostics, or why there are none."""
        request = {"documents": dict(documents), "include_dirs": list(include_dirs),
                   "library_dirs": list(library_dirs), "cpu_seconds": self.cpu_seconds}
        async with self._lock:
            process = await self._child()
            assert process.stdin is not None and process.stdout is not None
            try:
                process.stdin.write(json.dumps(request).encode() + b"\n")
                await process.stdin.drain()
                line = await asyncio.wait_for(process.stdout.readline(), WALL_SECONDS)
            except (BrokenPipeError, ConnectionResetError):
                line = b""
            except asyncio.TimeoutError:
                self._kill(process)
                await process.wait()
                return Failure(f"the semantic check took longer than {WALL_SECONDS} s")
            if not line:
                returncode = await process.wait()
                reason = _death(returncode, self.cpu_seconds, self.memory_bytes)
                log.warning("semantic elaboration failed: %s", reason)
                return Failure(reason)
        reply = json.loads(line)
        if "error" in reply:
            return Failure(reply["error"])
        return {name: [Diagnostic(*fields) for fields in records] for name, records in reply["diagnostics"].items()}

    @staticmethod
    def _kill(process: asyncio.subprocess.Process) -> None:
        if process.returncode is None:
            process.kill()

    def close(self) -> None:
        if self._process is not None:
            self._kill(self._process)
