"""The one thread that owns the model: loading, decoding, and cancelling a decode in flight.

The engine (its KV cache, its prefix cache) is not thread-safe, and two decodes at once on a 2-core CPU
would only slow each other down, so every model job runs on a single worker thread, in order. The event
loop never waits on the model: handlers `await` the job while the loop keeps answering diagnostics.

A decode cannot be interrupted from outside, but both decoders ask the stop rule after every accepted
token, so a cancelled job's stop rule ends it at the next token.

Inline completions come first: a job submitted with `urgent=True` counts in `urgent_waiting` until it
starts, and module generation's stop rule watches that count, ends its stretch of decoding, and queues
its continuation behind the completion (the queue is first in, first out).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Optional, TypeVar

from verifrag.errors import UserError
from verifrag.server.config import ServerConfig

if TYPE_CHECKING:
    from verifrag.model.engine import Engine
    from verifrag.model.stopping import StopRule

log = logging.getLogger(__name__)
T = TypeVar("T")

LOADING, READY, DIAGNOSTICS_ONLY, ERROR = "loading", "ready", "diagnostics-only", "error"


class Cancelled(Exception):
    """The job was cancelled (by the client, or superseded by a newer request) before it finished."""


class CancelToken:
    """Set from the event loop, read on the worker thread."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason = "cancelled"

    def cancel(self, reason: str = "cancelled") -> None:
        if not self._event.is_set():
            self.reason = reason
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def stop_rule(self, inner: Optional["StopRule"]) -> "StopRule":
        """`inner`, except that once cancelled the rule cuts the text where it is, ending the decode."""

        def rule(generated: str) -> int | None:
            if self._event.is_set():
                return len(generated)
            return inner(generated) if inner is not None else None

        return rule


@dataclass(frozen=True)
class ModelState:
    state: str
    message: str


class ModelWorker:
    def __init__(self, loop: asyncio.AbstractEventLoop, on_state: Callable[[ModelState], None]) -> None:
        self._loop = loop
        self._on_state = on_state
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="verifrag-model")
        self._engine: Engine | None = None
        self._wanted: tuple | None = None  # model_key of the latest load asked for
        self._urgent = 0  # urgent jobs submitted and not started yet
        self._urgent_lock = threading.Lock()
        self.state = ModelState(LOADING, "")

    @property
    def ready(self) -> bool:
        return self.state.state == READY and self._engine is not None

    def _set_state(self, state: str, message: str) -> None:
        """Record and announce a state change; safe to call from the worker thread."""

        def apply() -> None:
            self.state = ModelState(state, message)
            self._on_state(self.state)

        self._loop.call_soon_threadsafe(apply)

    def configure(self, config: ServerConfig) -> Future | None:
        """Load (or unload) the model `config` asks for; returns the load's future when one starts."""
        if not config.wants_model:
            self._wanted = None
            self._executor.submit(self._unload)
            self._set_state(DIAGNOSTICS_ONLY, "model features are switched off")
            return None
        if config.model_key == self._wanted:
            return None
        self._wanted = config.model_key
        self.state = ModelState(LOADING, "")
        self._on_state(ModelState(LOADING, f"loading {config.checkpoint or 'the default checkpoint'}"))
        return self._executor.submit(self._load, config.model_key)

    def _unload(self) -> None:
        self._engine = None

    def _load(self, key: tuple) -> None:
        checkpoint, device, dtype = key
        self._engine = None  # free the old model before the new one takes memory
        try:
            from verifrag.model.engine import Engine

            engine = Engine.load(checkpoint, device=device, dtype=dtype, decode_only=True)
        except UserError as exc:
            self._fail(key, str(exc))
            return
        except Exception as exc:  # a broken checkpoint can fail deep inside torch or safetensors
            log.exception("loading the model failed")
            self._fail(key, f"{type(exc).__name__}: {exc}")
            return
        if key != self._wanted:
            return  # a newer configuration asked for another model meanwhile; its load follows
        self._engine = engine
        where = checkpoint or "default checkpoint"
        self._set_state(READY, f"model ready ({where}, {engine.lm.device})")

    def _fail(self, key: tuple, reason: str) -> None:
        if key == self._wanted:
            self._set_state(DIAGNOSTICS_ONLY, f"VeriFrag could not load the model, diagnostics only: {reason}")

    @property
    def urgent_waiting(self) -> bool:
        """An inline completion is queued behind the job running now (read on the worker thread)."""
        return self._urgent > 0

    def _count_urgent(self, change: int) -> None:
        with self._urgent_lock:
            self._urgent += change

    async def run(self, job: Callable[["Engine"], T], token: CancelToken, urgent: bool = False) -> T:
        """Run `job(engine)` on the worker thread. Raises `Cancelled` when the token was cancelled first
        or while waiting, and `UserError` when no model is loaded."""
        started = threading.Event()

        def guarded() -> T:
            if urgent:
                started.set()
                self._count_urgent(-1)
            if token.cancelled:
                raise Cancelled()
            if self._engine is None:
                raise UserError("the model is not loaded")
            return job(self._engine)

        if urgent:
            self._count_urgent(1)
        future = self._executor.submit(guarded)
        if urgent:  # a job dropped before it starts must not hold generation back forever
            future.add_done_callback(lambda _: None if started.is_set() else self._count_urgent(-1))
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            token.cancel()
            raise

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
