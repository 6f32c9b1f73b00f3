"""The next-token decoder: one forward pass per token. The baseline every speed-up is measured against,
and the reference the Medusa decoder must reproduce token for token under greedy decoding."""

from __future__ import annotations

import torch

from verifrag.model.decode_run import DecodeRun
from verifrag.model.results import DecodeResult, DecodeStats
from verifrag.model.runtime import LanguageModel
from verifrag.model.sampling import DecodeConfig, choose_token


class NextTokenDecoder:
    name = "ntp"

    def __init__(self, lm: LanguageModel) -> None:
        self.lm = lm

    @torch.inference_mode()
    def generate(self, prompt: str, config: DecodeConfig) -> DecodeResult:
        run = DecodeRun.start(self.lm, prompt, config, DecodeStats(decoder=self.name), config.max_new_tokens)
        cache, logits = run.prefill.cache, run.prefill.logits
        while True:
            token = choose_token(logits, config, run.generator)
            run.stats.steps += 1
            run.stats.accepted += 1
            if run.emitter.accept([token]):
                break
            logits, _ = self.lm.forward(torch.tensor([[token]], device=self.lm.device), cache, last_only=True)
            logits = logits[-1]
        return run.finish(cache)
