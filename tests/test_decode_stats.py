"""`mean_accepted` means what the generate --json contract says: tokens verification accepted per step,
before fragment snapping and the final trim; exactly 1.0 for next-token decoding even when the final
trim drops tokens (it once read 0.977 = 250 tokens / 256 steps)."""

import pytest

from tests.tiny_models import tiny_lm
from verifrag.model.medusa import MedusaDecoder
from verifrag.model.ntp import NextTokenDecoder
from verifrag.model.sampling import DecodeConfig
from verifrag.model.tree import CandidateTree, default_paths


pytestmark = pytest.mark.usefixtures("one_torch_thread")


PROMPTS = ["module counter(input clk, input rst, output reg [3:0] q);\n", "assign y = a & b", "x"]


def test_next_token_accepts_exactly_one_token_a_step():
    lm, _ = tiny_lm("llama", seed=0)
    config = DecodeConfig(max_new_tokens=30, snap_fragments=True, stop_at_endmodule=False)
    results = [NextTokenDecoder(lm).generate(prompt, config) for prompt in PROMPTS]
    assert any(r.stats.frag_discarded for r in results)  # the trim happened, so new_tokens / steps < 1
    for result in results:
        assert result.stats.mean_accepted == 1.0
        assert result.stats.as_dict()["mean_accepted"] == 1.0


def test_medusa_counts_accepted_tokens_before_snapping():
    lm, heads = tiny_lm("llama", seed=1)
    tree = CandidateTree.from_paths(default_paths(heads.num_heads, 12), heads.num_heads)
    config = DecodeConfig(max_new_tokens=30, snap_fragments=True, stop_at_endmodule=False)
    for prompt in PROMPTS:
        stats = MedusaDecoder(lm, heads, tree).generate(prompt, config).stats
        assert stats.mean_accepted == stats.accepted / stats.steps
        assert stats.mean_accepted >= 1.0
        assert stats.accepted >= sum(stats.accepted_per_step)  # kept after snapping is never more
