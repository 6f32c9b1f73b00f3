"""Decoding settings, and how a token is chosen or a draft token accepted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch

from verifrag.errors import UserError
from verifrag.model.stopping import StopRule


@dataclass
class DecodeConfig:
    max_new_tokens: int = 256
    sampling: bool = False  # False: greedy (lossless Medusa). True: temperature/top-p, typical acceptance
    temperature: float = 0.7
    top_p: float = 0.95
    posterior_threshold: float = 0.09  # typical acceptance: accept while p > min(threshold,
    posterior_alpha: float = 0.3  # alpha * exp(-entropy)) (Medusa's defaults)
    snap_fragments: bool = True  # cut each step back to a fragment boundary; trim the final text
    stop_at_endmodule: bool = True
    stop_rule: Optional[StopRule] = None
    heal_prompt: bool = False  # hand the prompt's last token back to the model (model/healing.py): raw text cut anywhere
    prefill_lookup: int = 0  # draft this many prompt-lookup tokens inside the prefill pass (model/decode_run.py)
    step_lookup: int = 0  # next-token decoder: verify up to this many prompt-lookup tokens with a step (model/ntp.py)
    seed: Optional[int] = None

    def validate(self) -> None:
        if self.max_new_tokens < 1:
            raise UserError("max_new_tokens must be at least 1")
        if self.sampling and not self.temperature > 0:
            raise UserError("sampling needs a temperature above 0")
        if not 0 < self.top_p <= 1:
            raise UserError("top_p must lie in (0, 1]")
        if self.prefill_lookup < 0 or self.step_lookup < 0:
            raise UserError("prefill_lookup and step_lookup must be 0 or more")


def choose_token(logits: torch.Tensor, config: DecodeConfig, generator: torch.Generator | None) -> int:
    """The next token from next-token logits: argmax, or a temperature/top-p sample. The draw is made on
    the CPU, where the seeded `generator` lives, so a seed means the same thing whatever device the model
    runs on (a CPU generator cannot draw from CUDA tensors)."""
    if not config.sampling:
        return int(torch.argmax(logits))
    probs = torch.softmax(logits / config.temperature, dim=-1)
    if config.top_p < 1:
        sorted_probs, order = torch.sort(probs, descending=True)
        outside = torch.cumsum(sorted_probs, dim=-1) - sorted_probs > config.top_p
        sorted_probs[outside] = 0
        probs = torch.zeros_like(probs).scatter_(-1, order, sorted_probs)
    return int(torch.multinomial(probs.float().cpu(), 1, generator=generator))


def accept_drafts(parent_logits: torch.Tensor, drafts: torch.Tensor, config: DecodeConfig) -> torch.Tensor:
    """Whether each draft token is acceptable given the logits at its parent position.

    Greedy: the draft equals the parent's argmax, which makes speculation lossless. Typical: the draft's
    probability exceeds min(threshold, alpha * exp(-entropy)), Medusa's typical acceptance.
    """
    if not config.sampling:
        return drafts == parent_logits.argmax(dim=-1)
    probs = torch.softmax(parent_logits / config.temperature, dim=-1)
    entropy = -(probs * torch.log(probs.clamp_min(1e-10))).sum(-1)
    threshold = torch.minimum(
        torch.full_like(entropy, config.posterior_threshold), config.posterior_alpha * torch.exp(-entropy)
    )
    return probs.gather(-1, drafts[:, None])[:, 0] > threshold


def accepted_chain(parent_logits: torch.Tensor, drafts: list[int], config: DecodeConfig) -> int:
    """How many tokens of a draft chain are acceptable in a row, `drafts[i]` judged by `parent_logits[i]`
    (the logits after the token before it)."""
    if not drafts:
        return 0
    verdicts = accept_drafts(parent_logits[: len(drafts)], torch.tensor(drafts, device=parent_logits.device), config)
    return int(verdicts.long().cumprod(0).sum())
