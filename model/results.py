"""What a decoder returns: the text, its tokens, why it stopped, and the statistics of the run."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class DecodeStats:
    decoder: str
    prompt_tokens: int = 0
    truncated_prompt_tokens: int = 0  # dropped from the left to fit the context window
    reused_prompt_tokens: int = 0  # served from the prefix KV cache instead of being recomputed
    steps: int = 0  # forward passes after the prompt
    accepted: int = 0  # tokens verification accepted (root included), before snapping, stop rules and trimming
    new_tokens: int = 0
    accepted_per_step: list[int] = field(default_factory=list)
    head_hits: list[int] = field(default_factory=list)  # steps in which head k's token was kept
    branch_wins: dict[str, int] = field(default_factory=dict)  # hybrid: steps whose kept tokens came from each branch
    frag_discarded: int = 0  # verified tokens cut back so a step ends on a fragment boundary
    prefill_draft_tokens: int = 0  # prompt-lookup tokens verified in the prefill pass and kept (not in `steps`)
    prefill_seconds: float = 0.0
    seconds: float = 0.0

    @property
    def mean_accepted(self) -> float:
        """Tokens accepted per step before fragment snapping: exactly 1.0 for plain next-token, 1 + the
        accepted draft tokens for Medusa and for next-token steps with a prompt-lookup draft. Snapping
        and the final trim show in `frag_discarded`, so `new_tokens / steps` can be lower."""
        return self.accepted / self.steps if self.steps else 0.0

    @property
    def per_head_acceptance(self) -> list[float]:
        return [hits / self.steps if self.steps else 0.0 for hits in self.head_hits]

    @property
    def tokens_per_s(self) -> float:
        return self.new_tokens / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("accepted_per_step")
        data.update(
            mean_accepted=self.mean_accepted,
            per_head_acceptance=self.per_head_acceptance,
            tokens_per_s=self.tokens_per_s,
        )
        return data


@dataclass
class DecodeResult:
    text: str
    token_ids: list[int]
    stop_reason: str  # "eos", "endmodule", "repetition", "rule", "max_new_tokens"
    stats: DecodeStats
