"""The next-token decoder: one forward pass per token. The baseline every speed-up is measured against,
and the reference the Medusa decoder must reproduce token for token under greedy decoding."""

from __future__ import annotations

import time

import torch

from verifrag.model.emitter import Emitter
from verifrag.model.results import DecodeResult, DecodeStats
from verifrag.model.runtime import LanguageModel
from verifrag.model.sampling import DecodeConfig, choose_token


class NextTokenDecoder:
    name = "ntp"

    def __init__(self, lm: LanguageModel) -> None:
        self.lm = lm

    @torch.inference_mode()
    def generate(self, prompt: str, config: DecodeConfig) -> DecodeResult:
        config.validate()
        stats = DecodeStats(decoder=self.name)
        ids, stats.truncated_prompt_tokens = self.lm.encode_prompt(prompt, config.max_new_tokens)
        stats.prompt_tokens = len(ids)
        generator = torch.Generator().manual_seed(config.seed) if config.seed is not None else None
        started = time.perf_counter()
        prefill = self.lm.prefill(ids)
        stats.reused_prompt_tokens = prefill.reused
        stats.prefill_seconds = time.perf_counter() - started
        emitter = Emitter(self.lm, self.lm.decode(ids), config, stats)
        cache, logits = prefill.cache, prefill.logits
        while True:
            token = choose_token(logits, config, generator)
            stats.steps += 1
            if emitter.accept([token]):
                break
            logits, _ = self.lm.forward(torch.tensor([[token]], device=self.lm.device), cache, last_only=True)
            logits = logits[-1]
        text, out_ids = emitter.finish()
        stats.new_tokens = len(out_ids)
        stats.seconds = time.perf_counter() - started
        self.lm.keep_prompt(ids, cache)
        return DecodeResult(text, out_ids, emitter.stop_reason or "max_new_tokens", stats)
