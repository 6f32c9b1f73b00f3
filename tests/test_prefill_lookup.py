"""Prompt-lookup drafts in the prefill pass and in next-token steps: tokens copied from the document ride
along in a pass that runs anyway and are kept as far as greedy acceptance allows, so output never
changes and the cache is left as if they had been decoded one by one."""

import pytest

from tests.tiny_models import tiny_lm
from verifrag.errors import UserError
from verifrag.model.hybrid import HybridDecoder
from verifrag.model.medusa import MedusaDecoder
from verifrag.model.ntp import NextTokenDecoder
from verifrag.model.sampling import DecodeConfig
from verifrag.model.tree import CandidateTree, default_paths

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# Repetitive text, so the lookup finds earlier occurrences of the prompt's last tokens.
PROMPTS = [
    "a <= b;\nc <= d;\na <= b;\nc <= d;\na <= ",
    "input clk,\ninput rst,\ninput en,\ninput clk,\ninput r",
    "xyxyxyxyxyxyxyxyxyxy",
]


@pytest.mark.parametrize("kind", ["llama", "qwen2", "mistral"])
@pytest.mark.parametrize("heal", [False, True])
@pytest.mark.parametrize("runtime", ["transformers", "lean"])
def test_greedy_output_is_the_same_with_and_without_document_drafts(kind, heal, runtime):
    lm, heads = tiny_lm(kind, seed=3, runtime=runtime)
    tree = CandidateTree.from_paths(default_paths(heads.num_heads, 8), heads.num_heads)
    decoders = [NextTokenDecoder(lm), MedusaDecoder(lm, heads, tree), HybridDecoder(lm, heads, tree)]
    for prompt in PROMPTS:
        plain = DecodeConfig(max_new_tokens=20, stop_at_endmodule=False, heal_prompt=heal)
        expected = NextTokenDecoder(lm).generate(prompt, plain)
        drafted = DecodeConfig(max_new_tokens=20, stop_at_endmodule=False, heal_prompt=heal, prefill_lookup=8,
                               step_lookup=4)
        for decoder in decoders:
            for _ in range(2):  # the second run starts from the prefix cache the first one left
                got = decoder.generate(prompt, drafted)
                assert got.token_ids == expected.token_ids, (decoder.name, prompt)
                assert got.text == expected.text
                if decoder.name == "ntp":  # each kept draft token spares one step
                    assert got.stats.steps <= expected.stats.steps
                    assert got.stats.accepted + got.stats.prefill_draft_tokens >= expected.stats.steps


@pytest.mark.parametrize("field", ["prefill_lookup", "step_lookup"])
def test_a_negative_lookup_length_is_refused(field):
    lm, _ = tiny_lm("llama", seed=3)
    with pytest.raises(UserError, match=field):
        NextTokenDecoder(lm).generate("abc", DecodeConfig(**{field: -1}))
