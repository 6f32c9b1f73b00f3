"""Signal-level DPO: the loss, and which tokens it counts.

DPO compares summed log-probabilities of a chosen and a rejected completion
under the policy and a frozen reference. SALV sums only over the tokens of the
contrasted signals' code, so a sample is credited for the outputs it got right
and not for the rest; module-level DPO (the ablation) sums over the whole
completion. Character spans become tokens through the tokenizer's offset
mapping on prompt + completion, the text the model is scored on.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from transformers import PreTrainedTokenizerBase


def encode_with_mask(tokenizer: PreTrainedTokenizerBase, prompt: str, completion: str,
                     spans: Sequence[Sequence[int]]) -> tuple[list[int], list[bool]]:
    """Token ids of `prompt + completion`, and which tokens overlap a span of the completion.

    A token is selected when its characters overlap any [start, end) span
    (offsets relative to the completion); special tokens, which cover no
    characters, never are.
    """
    encoded = tokenizer(prompt + completion, return_offsets_mapping=True, add_special_tokens=True)
    shift = len(prompt)
    shifted = [(shift + int(start), shift + int(end)) for start, end in spans]
    mask = [a < b and any(a < end and start < b for start, end in shifted) for a, b in encoded["offset_mapping"]]
    return list(encoded["input_ids"]), mask


def sequence_logprobs(model: torch.nn.Module, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                      token_mask: torch.Tensor) -> torch.Tensor:
    """Per row, the sum of log p(token | tokens before it) over the tokens where `token_mask` is true.

    The first token has no prediction and is never counted.
    """
    logits = model(input_ids=input_ids, attention_mask=attention_mask).logits[:, :-1].float()
    targets = input_ids[:, 1:]
    logps = torch.log_softmax(logits, dim=-1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    return (logps * token_mask[:, 1:].to(logps.dtype)).sum(-1)


def dpo_loss(policy_chosen: torch.Tensor, policy_rejected: torch.Tensor, reference_chosen: torch.Tensor,
             reference_rejected: torch.Tensor, beta: float = 0.1) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Sigmoid DPO: mean of -log sigmoid(beta * (chosen log-ratio - rejected log-ratio)).

    Returns (loss, chosen rewards, rejected rewards); a reward is beta times the
    policy-to-reference log-ratio, logged to see whether training separates them.
    """
    chosen_rewards = beta * (policy_chosen - reference_chosen)
    rejected_rewards = beta * (policy_rejected - reference_rejected)
    loss = -F.logsigmoid(chosen_rewards - rejected_rewards).mean()
    return loss, chosen_rewards.detach(), rejected_rewards.detach()


def pad_batch(rows: Sequence[tuple[list[int], list[bool]]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Right-pad (ids, mask) rows into input_ids, attention_mask and token_mask tensors."""
    width = max(len(ids) for ids, _ in rows)
    input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(rows), width), dtype=torch.long)
    selected = torch.zeros((len(rows), width), dtype=torch.bool)
    for row, (ids, mask) in enumerate(rows):
        input_ids[row, : len(ids)] = torch.tensor(ids)
        attention[row, : len(ids)] = 1
        selected[row, : len(mask)] = torch.tensor(mask)
    return input_ids, attention, selected
