"""Static candidate trees for Medusa verification.

A tree is a list of paths; a path is a tuple of ranks, one per depth: `(0, 2)` means "head 1's top
token, then head 2's third-best token". Every prefix of a path must itself be a node, so the list is
closed under prefixes and the root (the base model's own next token) is implicit.

Trees are built greedily from per-head top-k acceptance estimates (the way Medusa picks its trees):
repeatedly add the node whose path has the highest estimated probability of being accepted. Training
writes measured estimates into the checkpoint, so the tree fits the heads it ships with.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from functools import cached_property
from typing import Sequence

import torch

from verifrag.errors import UserError

Path = tuple[int, ...]

# Rough top-k acceptance of untrained-but-reasonable heads, used before any measurement exists.
_PRIOR = [[0.6, 0.12, 0.05, 0.03, 0.02], [0.4, 0.1, 0.05, 0.03, 0.02], [0.3, 0.08, 0.04, 0.02], [0.2, 0.06, 0.03]]


def build_tree(acceptance: Sequence[Sequence[float]], num_nodes: int) -> list[Path]:
    """The `num_nodes` paths with the highest estimated acceptance probability.

    `acceptance[d][r]` estimates how often head d+1's rank-r token is right. A path's score is the
    product along it, so children never outscore their parent and the result is prefix-closed.
    """
    if num_nodes < 0:
        raise UserError("a candidate tree needs a non-negative number of nodes")
    chosen: list[Path] = []
    frontier: list[tuple[float, Path]] = [(-acceptance[0][r], (r,)) for r in range(len(acceptance[0]))]
    heapq.heapify(frontier)
    while frontier and len(chosen) < num_nodes:
        negative_score, path = heapq.heappop(frontier)
        chosen.append(path)
        depth = len(path)
        if depth < len(acceptance):
            for rank, p in enumerate(acceptance[depth]):
                heapq.heappush(frontier, (negative_score * p, path + (rank,)))
    return chosen


def default_paths(num_heads: int, num_nodes: int, acceptance: Sequence[Sequence[float]] | None = None) -> list[Path]:
    """A tree for `num_heads` heads from measured `acceptance`, else from a prior."""
    table = list(acceptance) if acceptance else [_PRIOR[min(d, len(_PRIOR) - 1)] for d in range(num_heads)]
    return build_tree(table[:num_heads], num_nodes)


def child_indices(parents: Sequence[int], device: torch.device) -> list[torch.Tensor | None]:
    """For root + nodes (node i's parent is `parents[i - 1]`), each one's children in index order, or
    None for a leaf: the order in which an acceptance walk visits a tree."""
    children: list[list[int]] = [[] for _ in range(len(parents) + 1)]
    for index, parent in enumerate(parents, start=1):
        children[parent].append(index)
    return [torch.tensor(c, dtype=torch.long, device=device) if c else None for c in children]


@dataclass(frozen=True)
class CandidateTree:
    """A validated tree plus the index tensors one verification pass needs."""

    paths: tuple[Path, ...]

    @classmethod
    def from_paths(cls, paths: Sequence[Sequence[int]], num_heads: int, top_k: int = 10) -> "CandidateTree":
        normalised = [tuple(int(r) for r in p) for p in paths]
        seen: set[Path] = set()
        for path in normalised:
            if not path:
                raise UserError("candidate tree: empty path (the root is implicit)")
            if len(path) > num_heads:
                raise UserError(f"candidate tree: path {list(path)} is deeper than the {num_heads} heads")
            if any(r < 0 or r >= top_k for r in path):
                raise UserError(f"candidate tree: ranks in {list(path)} must lie in 0..{top_k - 1}")
            if path in seen:
                raise UserError(f"candidate tree: path {list(path)} appears twice")
            seen.add(path)
        for path in normalised:
            if len(path) > 1 and path[:-1] not in seen:
                raise UserError(f"candidate tree: path {list(path)} lacks its parent {list(path[:-1])}")
        # Parents before children, so one pass over nodes in order can propagate acceptance.
        return cls(tuple(sorted(normalised, key=lambda p: (len(p), p))))

    @property
    def num_nodes(self) -> int:
        return len(self.paths)

    @property
    def depth(self) -> int:
        return max((len(p) for p in self.paths), default=0)

    @property
    def top_k(self) -> int:
        return 1 + max((max(p) for p in self.paths), default=0)

    @cached_property
    def parents(self) -> list[int]:
        """Index of each node's parent among [root] + nodes (the root is index 0)."""
        index = {path: i + 1 for i, path in enumerate(self.paths)}
        return [index.get(path[:-1], 0) for path in self.paths]

    @cached_property
    def depths(self) -> torch.Tensor:
        """Depth of root and nodes: the position offset of each tree token."""
        return torch.tensor([0] + [len(p) for p in self.paths])

    @cached_property
    def head_and_rank(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Which head (0-based) and which rank of its top-k fills each node."""
        return torch.tensor([len(p) - 1 for p in self.paths], dtype=torch.long), torch.tensor(
            [p[-1] for p in self.paths], dtype=torch.long
        )

    @cached_property
    def ancestor_mask(self) -> torch.Tensor:
        """(1+N, 1+N) bool: entry [i, j] is True when tree token j is i itself or one of its ancestors."""
        size = self.num_nodes + 1
        mask = torch.eye(size, dtype=torch.bool)
        mask[:, 0] = True
        for i, parent in enumerate(self.parents, start=1):
            mask[i] |= mask[parent]
        return mask
