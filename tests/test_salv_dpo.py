"""Signal-level DPO: the loss against a hand computation, and the token mask from character spans."""

from __future__ import annotations

import math

import pytest
import torch

from tests.salv_tiny import smollm_tokenizer, tiny_llama
from verifrag.training.salv.dpo import dpo_loss, encode_with_mask, pad_batch, sequence_logprobs

PROMPT = "// two outputs\n"
COMPLETION = "module m(input a, b, output y, z);\n  assign y = a & b;\n  assign z = a | b;\nendmodule\n"
Y_LINE = (COMPLETION.index("  assign y"), COMPLETION.index("  assign z"))


@pytest.fixture(scope="module")
def tokenizer():
    return smollm_tokenizer()


def _hand_logprob(model, ids: list[int], mask: list[bool]) -> float:
    """Sum of log p(token t | tokens < t) over masked t, read off one unpadded forward pass position by position."""
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([ids])).logits[0].double()
    return sum(float(torch.log_softmax(logits[t - 1], -1)[ids[t]]) for t in range(1, len(ids)) if mask[t])


def test_mask_covers_exactly_the_span_tokens(tokenizer):
    ids, mask = encode_with_mask(tokenizer, PROMPT, COMPLETION, [Y_LINE])
    offsets = tokenizer(PROMPT + COMPLETION, return_offsets_mapping=True)["offset_mapping"]
    selected = "".join((PROMPT + COMPLETION)[a:b] for (a, b), m in zip(offsets, mask) if m)
    assert selected.strip() == "assign y = a & b;"
    assert len(ids) == len(mask) and not mask[0]


def test_dpo_loss_matches_hand_computation(tokenizer):
    policy, reference = tiny_llama(len(tokenizer), seed=1), tiny_llama(len(tokenizer), seed=2)
    chosen = encode_with_mask(tokenizer, PROMPT, COMPLETION, [Y_LINE])
    rejected_text = COMPLETION.replace("a & b", "a ^ b")
    rejected = encode_with_mask(tokenizer, PROMPT, rejected_text, [Y_LINE])
    batch = pad_batch([chosen, rejected], tokenizer.eos_token_id)
    with torch.no_grad():
        p = sequence_logprobs(policy, *batch)
        r = sequence_logprobs(reference, *batch)
    loss, chosen_reward, rejected_reward = dpo_loss(p[:1], p[1:], r[:1], r[1:], beta=0.1)
    hand = {name: _hand_logprob(model, ids, mask)
            for name, model, (ids, mask) in [("pc", policy, chosen), ("pr", policy, rejected),
                                             ("rc", reference, chosen), ("rr", reference, rejected)]}
    margin = 0.1 * ((hand["pc"] - hand["rc"]) - (hand["pr"] - hand["rr"]))
    assert float(p[0]) == pytest.approx(hand["pc"], abs=1e-3)
    assert float(chosen_reward[0]) == pytest.approx(0.1 * (hand["pc"] - hand["rc"]), abs=1e-4)
    assert float(loss) == pytest.approx(-math.log(1 / (1 + math.exp(-margin))), abs=1e-4)


def test_tokens_outside_the_spans_do_not_change_the_loss(tokenizer):
    policy, reference = tiny_llama(len(tokenizer), seed=1), tiny_llama(len(tokenizer), seed=2)

    def loss_for(chosen_text: str) -> float:
        span = (chosen_text.index("  assign y"), chosen_text.index("  assign z"))
        rows = [encode_with_mask(tokenizer, PROMPT, chosen_text, [span]),
                encode_with_mask(tokenizer, PROMPT, COMPLETION.replace("a & b", "a ^ b"), [Y_LINE])]
        batch = pad_batch(rows, tokenizer.eos_token_id)
        with torch.no_grad():
            p, r = sequence_logprobs(policy, *batch), sequence_logprobs(reference, *batch)
        return float(dpo_loss(p[:1], p[1:], r[:1], r[1:])[0])

    base = loss_for(COMPLETION)
    after_span = COMPLETION.replace("assign z = a | b;", "assign z = ~(a | b); // changed")
    inside_span = COMPLETION.replace("a & b", "b & a")
    assert loss_for(after_span) == pytest.approx(base, abs=1e-6)
    assert abs(loss_for(inside_span) - base) > 1e-4
