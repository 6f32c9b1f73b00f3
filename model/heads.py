"""Medusa heads: each predicts the token k+1 positions past the base model's next token.

A head is `num_layers` ResBlocks (x + SiLU(Linear(x)), Linear zero-initialised so an untrained head
starts as the identity) followed by a vocabulary projection. By default every head reuses the base
model's LM head: for SmolLM2's 49k x 576 vocabulary an own projection costs 28M parameters (113 MB in
float32) per head, which would not fit a checkpoint in the repository, while a shared one costs nothing
and starts each head at the base model's own next-token distribution. `own_projection=True` gives
upstream Medusa's layout for users with the memory for it.
"""

from __future__ import annotations

import torch
from torch import nn


class ResBlock(nn.Module):
    def __init__(self, hidden_size: int) -> None:
        super().__init__()
        self.linear = nn.Linear(hidden_size, hidden_size)
        nn.init.zeros_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)
        self.act = nn.SiLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.act(self.linear(x))


class MedusaHeads(nn.Module):
    """`num_heads` heads over the base model's last hidden state."""

    def __init__(
        self,
        hidden_size: int,
        num_heads: int,
        num_layers: int = 1,
        vocab_size: int | None = None,
        num_candidates: int | None = None,
    ) -> None:
        super().__init__()
        if num_heads < 1 or num_layers < 0:
            raise ValueError("Medusa needs at least one head and a non-negative number of layers")
        self.hidden_size = hidden_size
        self.num_heads = num_heads
        self.num_layers = num_layers
        # Each head gets fresh ResBlock objects: sharing one module across heads would tie their weights.
        self.blocks = nn.ModuleList(
            nn.Sequential(*[ResBlock(hidden_size) for _ in range(num_layers)]) for _ in range(num_heads)
        )
        self.projections = (
            nn.ModuleList(nn.Linear(hidden_size, vocab_size, bias=False) for _ in range(num_heads))
            if vocab_size is not None
            else None
        )
        # Token ids the heads were trained to propose (None: the whole vocabulary). Drafting over only
        # these rows of the LM head is what makes a draft cheap on a CPU; saved with the weights.
        self.candidate_ids: torch.Tensor | None
        self.register_buffer(
            "candidate_ids", None if num_candidates is None else torch.zeros(num_candidates, dtype=torch.long)
        )

    def set_candidates(self, ids: torch.Tensor | None) -> None:
        """Restrict drafting to `ids` (sorted, unique token ids), or lift the restriction with None."""
        self.candidate_ids = None if ids is None else ids.detach().to(torch.long).cpu().unique()

    @property
    def own_projection(self) -> bool:
        return self.projections is not None

    def head_states(self, hidden: torch.Tensor) -> torch.Tensor:
        """Each head's transformed hidden state: (num_heads, *hidden.shape)."""
        return torch.stack([block(hidden) for block in self.blocks])

    def forward(self, hidden: torch.Tensor, lm_head: nn.Module) -> torch.Tensor:
        """Logits of every head: (num_heads, *hidden.shape[:-1], vocab)."""
        states = self.head_states(hidden)
        if self.projections is None:
            return lm_head(states)  # one matmul for all heads: the weight is read once
        return torch.stack([projection(state) for projection, state in zip(self.projections, states)])
