"""The next-token decoder: one forward pass per token. The baseline every speed-up is measured against,
and the reference the Medusa decoder must reproduce token for token under greedy decoding.

With `DecodeConfig.step_lookup`, a step whose context's last two or three tokens occurred earlier also
carries the tokens that followed them there (prompt lookup), in the same causal pass, and keeps those
that greedy acceptance allows: a comment or statement much like an earlier one then takes a few passes
instead of one per token. Steps without such a match stay one-token passes.
"""

from __future__ import annotations

import torch

from verifrag.model.decode_run import DecodeRun
from verifrag.model.kv_cache import truncate
from verifrag.model.lookup import lookup_continuation
from verifrag.model.results import DecodeResult, DecodeStats
from verifrag.model.runtime import LanguageModel
from verifrag.model.sampling import DecodeConfig, accepted_chain, choose_token

STEP_LOOKUP_MIN_NGRAM = 2  # a lone repeated token predicts too little to pay for the extra rows


class NextTokenDecoder:
    name = "ntp"

    def __init__(self, lm: LanguageModel) -> None:
        self.lm = lm

    @torch.inference_mode()
    def generate(self, prompt: str, config: DecodeConfig) -> DecodeResult:
        stats = DecodeStats(decoder=self.name)
        run = DecodeRun.start(self.lm, prompt, config, stats, config.max_new_tokens + config.step_lookup)
        cache, logits, past = run.prefill.cache, run.prefill.logits, run.past
        while not run.done:
            token = choose_token(logits, config, run.generator)
            context = run.ids + run.emitter.ids + [token]
            chain = lookup_continuation(context, config.step_lookup, min_ngram=STEP_LOOKUP_MIN_NGRAM) if config.step_lookup else []
            tokens = [token] + chain
            step_logits, _ = self.lm.forward(torch.tensor([tokens], device=self.lm.device), cache, last_only=not chain)
            accepted = 1 + accepted_chain(step_logits, chain, config)
            kept = accepted
            if chain and config.snap_fragments:
                kept = run.emitter.snap(tokens[:accepted], int(torch.argmax(step_logits[accepted - 1])))
            stats.steps += 1
            stats.accepted += accepted
            stats.frag_discarded += accepted - kept
            stats.accepted_per_step.append(kept)
            if run.emitter.accept(tokens[:kept]):
                break
            past += kept
            truncate(cache, past)  # drops the chain's rejected tokens; a one-token step has none
            logits = step_logits[kept - 1]
        return run.finish(cache)
