"""The Medusa decoder is lossless: under greedy acceptance it reproduces next-token decoding token for
token, whatever the heads and the tree, on Llama and Qwen2 layouts."""

import random

import pytest
import torch

from tests.tiny_models import tiny_lm
from verifrag.errors import UserError
from verifrag.model.medusa import MedusaDecoder
from verifrag.model.ntp import NextTokenDecoder
from verifrag.model.sampling import DecodeConfig
from verifrag.model.stopping import end_of_line
from verifrag.model.tree import CandidateTree, build_tree, default_paths



pytestmark = pytest.mark.usefixtures("one_torch_thread")


PROMPTS = [
    "module counter(input clk, input rst, output reg [3:0] q);\n",
    "assign y = a & b",
    "always @(posedge clk) begin\n  if (rst) q <= 4'b0",
    "// mux\nmodule m",
    "x",
]


def random_tree(rng: random.Random, num_heads: int) -> list[tuple[int, ...]]:
    """A random prefix-closed tree of 1..40 nodes, depth <= num_heads, ranks < 5."""
    paths: set[tuple[int, ...]] = set()
    for _ in range(rng.randint(1, 40)):
        depth = rng.randint(1, num_heads)
        path = tuple(rng.randrange(5) for _ in range(depth))
        for cut in range(1, depth + 1):
            paths.add(path[:cut])
    return sorted(paths)


@pytest.mark.parametrize("kind", ["llama", "qwen2"])
def test_greedy_medusa_equals_next_token(kind):
    rng = random.Random(kind)
    for seed in range(3):
        lm, heads = tiny_lm(kind, seed=seed)
        ntp = NextTokenDecoder(lm)
        for prompt in PROMPTS:
            config = DecodeConfig(max_new_tokens=40, snap_fragments=False, stop_at_endmodule=False)
            expected = ntp.generate(prompt, config).token_ids
            for _ in range(3):
                tree = CandidateTree.from_paths(random_tree(rng, heads.num_heads), heads.num_heads)
                got = MedusaDecoder(lm, heads, tree).generate(prompt, config)
                assert got.token_ids == expected, (prompt, tree.paths)
                assert got.stats.new_tokens == len(expected)
                assert got.stats.steps <= len(expected) + 1  # the step that produced EOS emits nothing


@pytest.mark.parametrize("kind", ["llama", "qwen2"])
def test_snapping_keeps_output_equal_up_to_the_stop(kind):
    lm, heads = tiny_lm(kind, seed=7)
    tree = CandidateTree.from_paths(default_paths(heads.num_heads, 24), heads.num_heads)
    for prompt in PROMPTS:
        for rule in (None, end_of_line):
            config = DecodeConfig(max_new_tokens=48, snap_fragments=True, stop_rule=rule)
            expected = NextTokenDecoder(lm).generate(prompt, config)
            got = MedusaDecoder(lm, heads, tree).generate(prompt, config)
            assert got.token_ids == expected.token_ids
            assert got.text == expected.text
            assert got.stop_reason == expected.stop_reason


def test_heads_that_always_agree_are_accepted():
    """Heads that copy the base's own prediction for every depth make a chain tree accept > 1 token a
    step whenever the model repeats itself; with identity heads at least the statistics stay sane."""
    lm, heads = tiny_lm("llama", seed=3)
    for parameter in heads.parameters():
        torch.nn.init.zeros_(parameter)
    tree = CandidateTree.from_paths([(0,), (0, 0), (0, 0, 0)], heads.num_heads)
    config = DecodeConfig(max_new_tokens=30, snap_fragments=False, stop_at_endmodule=False)
    result = MedusaDecoder(lm, heads, tree).generate("assign", config)
    assert result.token_ids == NextTokenDecoder(lm).generate("assign", config).token_ids
    assert sum(result.stats.accepted_per_step) == result.stats.new_tokens
    assert all(0 <= rate <= 1 for rate in result.stats.per_head_acceptance)


def test_prefix_cache_reuse_changes_nothing():
    lm, heads = tiny_lm("llama", seed=1)
    tree = CandidateTree.from_paths(default_paths(heads.num_heads, 8), heads.num_heads)
    decoder = MedusaDecoder(lm, heads, tree)
    config = DecodeConfig(max_new_tokens=20, snap_fragments=False)
    first = decoder.generate("module m(input a, output y);\nassign y = ", config)
    again = decoder.generate("module m(input a, output y);\nassign y = a", config)
    assert again.stats.reused_prompt_tokens > 10
    lm.prefix_cache.clear()
    fresh = decoder.generate("module m(input a, output y);\nassign y = a", config)
    assert fresh.stats.reused_prompt_tokens == 0
    assert again.token_ids == fresh.token_ids
    assert first.stats.prompt_tokens > 0


def test_a_rewound_prefix_cache_serves_what_it_served_before():
    """Rewinding to an earlier prompt keeps only the prefix it shares with the cached one, so the next
    prompt reuses as much as it would have right after that earlier prompt, and decodes the same."""
    lm, _ = tiny_lm("llama", seed=1)
    decoder = NextTokenDecoder(lm)
    config = DecodeConfig(max_new_tokens=12, snap_fragments=False, stop_at_endmodule=False)
    decoder.generate("module m(input a);\nwire b;\n", config)
    earlier = lm.prefix_cache.ids
    first = decoder.generate("module m(input a);\nwire c;\n", config)
    lm.prefix_cache.rewind(earlier)
    assert len(lm.prefix_cache.ids) < len(earlier) and earlier[: len(lm.prefix_cache.ids)] == lm.prefix_cache.ids
    again = decoder.generate("module m(input a);\nwire c;\n", config)
    assert again.stats.reused_prompt_tokens == first.stats.reused_prompt_tokens > 0
    assert again.token_ids == first.token_ids


def test_sampling_with_typical_acceptance_is_reproducible_with_a_seed():
    lm, heads = tiny_lm("qwen2", seed=2)
    tree = CandidateTree.from_paths(default_paths(heads.num_heads, 16), heads.num_heads)
    config = DecodeConfig(max_new_tokens=30, sampling=True, temperature=0.8, seed=11)
    a = MedusaDecoder(lm, heads, tree).generate("module", config)
    b = MedusaDecoder(lm, heads, tree).generate("module", config)
    assert a.token_ids == b.token_ids and a.stats.new_tokens > 0


def test_endmodule_stops_generation_exactly_after_the_keyword():
    lm, _ = tiny_lm("llama", seed=0)
    config = DecodeConfig(max_new_tokens=5)
    from verifrag.model.stopping import endmodule_rule

    rule = endmodule_rule("module m;\n")
    assert rule("  wire x;\nendmodule\n\nmodule n;") == len("  wire x;\nendmodule")
    assert rule("  module inner; endmodule\n") is None
    chat = "<|im_start|>user\nImplement a module named TopModule.<|im_end|>\n<|im_start|>assistant\n```verilog\nmodule TopModule"
    assert endmodule_rule(chat)("(input a);\nendmodule\n```") == len("(input a);\nendmodule")  # prose is no module
    assert NextTokenDecoder(lm).generate("module m;", config).stats.new_tokens <= 5


def test_long_prompts_are_cut_from_the_left():
    lm, _ = tiny_lm("llama")
    result = NextTokenDecoder(lm).generate("wire x;\n" * 200, DecodeConfig(max_new_tokens=8))
    assert result.stats.truncated_prompt_tokens > 0
    assert result.stats.prompt_tokens + 8 <= lm.context_length


def test_bad_trees_and_prompts_are_user_errors():
    lm, heads = tiny_lm("llama")
    with pytest.raises(UserError, match="deeper"):
        CandidateTree.from_paths([(0,), (0, 0), (0, 0, 0), (0, 0, 0, 0)], 3)
    with pytest.raises(UserError, match="parent"):
        CandidateTree.from_paths([(0, 1)], 3)
    with pytest.raises(UserError, match="twice"):
        CandidateTree.from_paths([(0,), (0,)], 3)
    with pytest.raises(UserError, match="empty"):
        NextTokenDecoder(lm).generate("", DecodeConfig())


def test_built_trees_are_prefix_closed_and_ordered_by_score():
    acceptance = [[0.7, 0.2, 0.05], [0.5, 0.1], [0.4]]
    paths = build_tree(acceptance, 6)
    assert paths[:4] == [(0,), (0, 0), (1,), (0, 0, 0)]  # scores 0.7, 0.35, 0.2, 0.14
    assert all(p[:-1] in paths for p in paths if len(p) > 1)
    CandidateTree.from_paths(paths, 3)


def test_candidate_vocabulary_limits_drafts_and_stays_lossless():
    lm, heads = tiny_lm("llama", seed=5)
    candidates = torch.arange(40, 120)
    heads.set_candidates(candidates)
    tree = CandidateTree.from_paths(default_paths(heads.num_heads, 12), heads.num_heads)
    decoder = MedusaDecoder(lm, heads, tree)
    drafted = decoder.draft(torch.randn(48, dtype=torch.float64))
    assert torch.isin(drafted, candidates).all()
    config = DecodeConfig(max_new_tokens=32, snap_fragments=False, stop_at_endmodule=False)
    for prompt in PROMPTS[:3]:
        assert decoder.generate(prompt, config).token_ids == NextTokenDecoder(lm).generate(prompt, config).token_ids
