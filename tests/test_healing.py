"""Token healing: the prompt's last token is handed back, the first output token must restart its text,
and callers still get a continuation of the prompt they gave; Medusa stays lossless under it."""

import pytest
import torch
from transformers import AutoTokenizer

from tests.tiny_models import byte_tokenizer, tiny_lm
from verifrag.model.checkpoint import DEFAULT_CHECKPOINT
from verifrag.model.healing import TokenHealer
from verifrag.model.medusa import MedusaDecoder
from verifrag.model.ntp import NextTokenDecoder
from verifrag.model.sampling import DecodeConfig
from verifrag.model.tree import CandidateTree, default_paths

pytestmark = pytest.mark.usefixtures("one_torch_thread")

PROMPTS = ["always @(posedge clk) begin\n", "assign y = a; mod", "module m(input a);\n  assi", "x;\n"]


def test_a_bare_line_break_may_become_a_line_break_with_indentation():
    """SmolLM2's tokenizer writes a line break and the next line's indent as one token; a prompt cut
    after the break ends on a bare `\\n`, which healing gives back with its indented variants allowed."""
    tokenizer = AutoTokenizer.from_pretrained(DEFAULT_CHECKPOINT, local_files_only=True)
    ids = tokenizer("module a;\n", add_special_tokens=False)["input_ids"]
    healing = TokenHealer(tokenizer).heal(ids)
    assert healing is not None and healing.tail == "\n" and healing.ids == ids[:-1]
    indented = tokenizer("module a;\n    end", add_special_tokens=False)["input_ids"][len(healing.ids)]
    assert tokenizer.decode([indented]) == "\n   "  # the fourth space starts the next token, " end"
    assert indented in healing.allowed.tolist() and ids[-1] in healing.allowed.tolist()
    assert all(tokenizer.decode([i]).startswith("\n") for i in healing.allowed.tolist())


def test_nothing_to_heal_after_a_special_token_or_in_a_one_token_prompt():
    tokenizer = byte_tokenizer()
    healer = TokenHealer(tokenizer)
    ids = tokenizer("module m", add_special_tokens=False)["input_ids"]
    assert healer.heal(ids + [tokenizer.eos_token_id]) is None
    assert healer.heal(ids[:1]) is None


def test_restrict_rules_out_every_token_that_does_not_restart_the_tail():
    tokenizer = byte_tokenizer()
    ids = tokenizer("assign y = a; mod", add_special_tokens=False)["input_ids"]
    healing = TokenHealer(tokenizer).heal(ids)
    assert healing is not None and healing.tail == "mod"
    allowed = {tokenizer.convert_ids_to_tokens(i) for i in healing.allowed.tolist()}
    assert allowed == {"mod", "modu", "modul", "module"}
    logits = torch.arange(len(tokenizer), dtype=torch.float32)
    kept = healing.restrict(logits)
    assert torch.isfinite(kept).sum() == len(allowed)
    assert kept[healing.allowed].equal(logits[healing.allowed])


@pytest.mark.parametrize("kind", ["llama", "qwen2"])
def test_healed_output_continues_the_prompt_and_medusa_stays_lossless(kind):
    lm, heads = tiny_lm(kind, seed=5)
    tree = CandidateTree.from_paths(default_paths(heads.num_heads, 12), heads.num_heads)
    for prompt in PROMPTS:
        config = DecodeConfig(max_new_tokens=24, snap_fragments=False, stop_at_endmodule=False, heal_prompt=True)
        healing = lm.healer.heal(lm.encode_prompt(prompt, config.max_new_tokens)[0])
        assert healing is not None
        expected = NextTokenDecoder(lm).generate(prompt, config)
        assert expected.token_ids[0] in healing.allowed.tolist()
        assert prompt + expected.text == lm.decode(healing.ids + expected.token_ids)
        assert expected.stats.prompt_tokens == len(healing.ids)
        got = MedusaDecoder(lm, heads, tree).generate(prompt, config)
        assert got.token_ids == expected.token_ids and got.text == expected.text
