"""The beginning and end every decoder shares: encode and prefill the prompt, then hand back the
result and the prompt's KV cache. Keeping it in one place keeps the decoders' statistics comparable.

With `DecodeConfig.prefill_lookup`, the prefill also verifies a draft: the tokens that followed the
prompt's last few tokens where they occurred earlier in it (`model/lookup.py`), appended to the prompt
in the same causal pass. A cursor in a Verilog file is often in text that repeats (a port list, the
next `always` block like the last one), and a completion there is a few tokens long, so the whole
answer often comes out of the pass that had to run anyway. Acceptance is the decoders' own (greedy:
each draft token equals the argmax before it), so greedy output does not change.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from verifrag.model.emitter import Emitter
from verifrag.model.kv_cache import Cache, truncate
from verifrag.model.lookup import lookup_continuation
from verifrag.model.results import DecodeResult, DecodeStats
from verifrag.model.runtime import LanguageModel, Prefill
from verifrag.model.sampling import DecodeConfig, accepted_chain


@dataclass
class DecodeRun:
    lm: LanguageModel
    ids: list[int]
    prefill: Prefill  # after a prefill draft: the logits and hidden state after its last kept token
    emitter: Emitter
    stats: DecodeStats
    generator: torch.Generator | None
    started: float
    past: int  # cache entries when the decoder's first step runs: the prompt and the kept draft tokens
    done: bool = False  # a stop rule already fired inside the prefill draft

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
        length = min(config.prefill_lookup, config.max_new_tokens, reserve)
        draft = lookup_continuation(ids, length) if length else []
        started = time.perf_counter()
        prefill = lm.prefill(ids, reserve, draft)
        stats.reused_prompt_tokens = prefill.reused
        stats.prefill_seconds = time.perf_counter() - started
        tail = ""
        if healing is not None:
            prefill.logits, tail = healing.restrict(prefill.logits), healing.tail
        emitter = Emitter(lm, lm.decode(ids) + tail, config, stats, healed=tail)
        run = cls(lm, ids, prefill, emitter, stats, generator, started, len(ids))
        if draft:
            run._keep_draft(draft, config)
        return run

    def _keep_draft(self, draft: list[int], config: DecodeConfig) -> None:
        """Commit the draft's acceptable prefix (cut back to a fragment boundary when snapping), crop the
        rest from the cache, and leave the logits and hidden state after the last kept token."""
        logits = torch.cat([self.prefill.logits[None], self.prefill.draft_logits])  # row i: after i draft tokens
        accepted = draft[: accepted_chain(logits, draft, config)]
        kept = len(accepted)
        if kept and config.snap_fragments:  # the token that would follow, under greedy decoding
            kept = self.emitter.snap(accepted, int(torch.argmax(logits[kept])))
        truncate(self.prefill.cache, len(self.ids) + kept)
        self.past = len(self.ids) + kept
        self.stats.prefill_draft_tokens = kept
        if kept:
            self.prefill.logits, self.prefill.hidden = logits[kept], self.prefill.draft_hidden[kept - 1]
            self.done = self.emitter.accept(accepted[:kept])

    def finish(self, cache: Cache) -> DecodeResult:
        """The result, with timing; the cache goes back to the prefix cache for the next prompt."""
        text, out_ids = self.emitter.finish()
        self.stats.new_tokens = len(out_ids)
        self.stats.seconds = time.perf_counter() - self.started
        self.lm.keep_prompt(self.ids, cache)
        return DecodeResult(text, out_ids, self.emitter.stop_reason or "max_new_tokens", self.stats)
