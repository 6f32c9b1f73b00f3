"""The hybrid decoder: the Medusa tree plus a prompt-lookup chain, verified in one forward pass.

The heads guess well inside a statement; prompt lookup guesses well where the document repeats itself
(a port list echoed in declarations, a case arm like the previous one), often many tokens at once.
The chain hangs off the root beside the Medusa nodes, so the tree's shape stays static (mask and index
tensors built once) and only its tokens change each step; acceptance takes the deepest acceptable
path from either branch, and `branch_wins` counts which one it came from.
"""

from __future__ import annotations

import torch

from verifrag.model.heads import MedusaHeads
from verifrag.model.lookup import lookup_continuation
from verifrag.model.medusa import MedusaDecoder
from verifrag.model.results import DecodeStats
from verifrag.model.runtime import LanguageModel
from verifrag.model.tree import CandidateTree, child_indices


class HybridDecoder(MedusaDecoder):
    name = "hybrid"

    def __init__(self, lm: LanguageModel, heads: MedusaHeads, tree: CandidateTree, lookup_length: int = 6) -> None:
        super().__init__(lm, heads, tree)
        if lookup_length < 1:
            raise ValueError("the lookup chain needs at least one token")
        self.lookup_length = lookup_length
        first = tree.num_nodes + 1  # index of the chain's first node among root + nodes
        parents = list(tree.parents) + [0] + list(range(first, first + lookup_length - 1))
        size = len(parents) + 1
        ancestors = torch.eye(size, dtype=torch.bool)
        ancestors[:, 0] = True
        for index, parent in enumerate(parents, start=1):
            ancestors[index] |= ancestors[parent]
        device = lm.device
        self._depths = torch.cat([tree.depths, torch.arange(1, lookup_length + 1)]).to(device)
        self._ancestors = ancestors.to(device)
        self._children = child_indices(parents, device)

    @property
    def num_draft_nodes(self) -> int:
        return self.tree.num_nodes + self.lookup_length

    def propose(self, hidden: torch.Tensor, context: list[int]) -> torch.Tensor:
        """The heads' tree tokens, then the lookup chain continuing `context` (which ends with the root);
        a short or missing match is padded with the root token, a draft like any other."""
        chain = lookup_continuation(context, self.lookup_length)
        chain += [context[-1]] * (self.lookup_length - len(chain))
        return torch.cat([self.draft(hidden), torch.tensor(chain, device=hidden.device)])

    def record(self, stats: DecodeStats, path: torch.Tensor, kept: int) -> None:
        """Which branch the kept tokens came from: the root alone, the heads' tree, or the lookup chain."""
        if kept <= 1:
            branch = "root"
        elif int(path[1]) > self.tree.num_nodes:
            branch = "lookup"
        else:
            branch = "medusa"
            super().record(stats, path, kept)
        stats.branch_wins[branch] = stats.branch_wins.get(branch, 0) + 1
