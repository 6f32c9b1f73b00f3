"""The beginning and end every decoder shares: encode and prefill the prompt, then hand back the
result and the prompt's KV cache. Keeping it in one place keeps the decoders' statistics comparable."""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from verifrag.model.emitter import Emitter
from verifrag.model.kv_cache import Cache
from verifrag.model.results import DecodeResult, DecodeStats
from verifrag.model.runtime import LanguageModel, Prefill
from verifrag.model.sampling import DecodeConfig


@dataclass
class DecodeRun:
    lm: LanguageModel
    ids: list[int]
    prefill: Prefill
    emitter: Emitter
    stats: DecodeStats
    generator: torch.Generator | None
    started: float

    @classmethod
    def start(cls, lm: LanguageModel, prompt: str, config: DecodeConfig, stats: DecodeStats, reserve: int) -> "DecodeRun":
        """Encode `prompt` leaving `reserve` positions free in the context, and prefill it; with
        `config.heal_prompt`, without its last token, which the first generated token must restart."""
        config.validate()
        ids, stats.truncated_prompt_tokens = lm.encode_prompt(prompt, reserve)
        healing = lm.healer.heal(ids) if config.heal_prompt else None
        if healing is not None:
            ids = healing.ids
        stats.prompt_tokens = len(ids)
        generator = torch.Generator().manual_seed(config.seed) if config.seed is not None else None
        started = time.perf_counter()
        prefill = lm.prefill(ids, reserve)
        stats.reused_prompt_tokens = prefill.reused
        stats.prefill_seconds = time.perf_counter() - started
        tail = ""
        if healing is not None:
            prefill.logits, tail = healing.restrict(prefill.logits), healing.tail
        emitter = Emitter(lm, lm.decode(ids) + tail, config, stats, healed=tail)
        return cls(lm, ids, prefill, emitter, stats, generator, started)

    def finish(self, cache: Cache) -> DecodeResult:
        """The result, with timing; the cache goes back to the prefix cache for the next prompt."""
        text, out_ids = self.emitter.finish()
        self.stats.new_tokens = len(out_ids)
        self.stats.seconds = time.perf_counter() - self.started
        self.lm.keep_prompt(self.ids, cache)
        return DecodeResult(text, out_ids, self.emitter.stop_reason or "max_new_tokens", self.stats)
