"""The hybrid decoder (Medusa tree + prompt-lookup chain) is lossless under greedy acceptance, and
its lookup branch copies what followed the latest earlier occurrence of the context's tail."""

import pytest

from tests.tiny_models import tiny_lm
from verifrag.model.hybrid import HybridDecoder
from verifrag.model.lookup import lookup_continuation
from verifrag.model.ntp import NextTokenDecoder
from verifrag.model.sampling import DecodeConfig
from verifrag.model.tree import CandidateTree, default_paths


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_lookup_takes_the_latest_longest_match():
    context = [1, 2, 3, 9, 9, 1, 2, 3, 7, 8, 5, 2, 3]
    assert lookup_continuation(context, 2) == [7, 8]  # "2 3" last seen before 7 8 (3-gram "5 2 3" is new)
    assert lookup_continuation([4, 5, 6, 4], 3) == [5, 6, 4]
    assert lookup_continuation([1, 2, 3], 4) == []
    assert lookup_continuation([7], 4) == []


@pytest.mark.parametrize("kind", ["llama", "qwen2"])
@pytest.mark.parametrize("runtime", ["transformers", "lean"])
def test_greedy_hybrid_equals_next_token(kind, runtime):
    lm, heads = tiny_lm(kind, seed=6, runtime=runtime)
    tree = CandidateTree.from_paths(default_paths(heads.num_heads, 10), heads.num_heads)
    config = DecodeConfig(max_new_tokens=48, snap_fragments=False, stop_at_endmodule=False)
    wins = {}
    for prompt in ["assign y = a & b;\nassign y = a & b;\nassign", "module m(input a);\nmodule m(", "x"]:
        expected = NextTokenDecoder(lm).generate(prompt, config).token_ids
        for length in (1, 4, 9):
            result = HybridDecoder(lm, heads, tree, lookup_length=length).generate(prompt, config)
            assert result.token_ids == expected
            assert sum(result.stats.branch_wins.values()) == result.stats.steps
            for branch, count in result.stats.branch_wins.items():
                wins[branch] = wins.get(branch, 0) + count
    assert set(wins) <= {"root", "medusa", "lookup"}


def test_hybrid_with_fragment_snapping_matches_next_token_up_to_the_stop():
    lm, heads = tiny_lm("llama", seed=8, runtime="lean")
    tree = CandidateTree.from_paths(default_paths(heads.num_heads, 12), heads.num_heads)
    config = DecodeConfig(max_new_tokens=40, snap_fragments=True)
    for prompt in ["always @(posedge clk) begin\n  q <= d;\n  q <= ", "wire a;\nwire"]:
        expected = NextTokenDecoder(lm).generate(prompt, config)
        got = HybridDecoder(lm, heads, tree).generate(prompt, config)
        assert got.token_ids == expected.token_ids and got.text == expected.text
