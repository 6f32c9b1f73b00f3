"""Counting what each corpus stage lets through, and reporting it as JSON and as a table.

Every stage reports how many items came in, how many went out and why the rest were dropped, so the
report alone explains where a corpus's size comes from.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class StageCount:
    name: str
    unit: str  # what the stage counts: files or modules
    seen: int = 0
    kept: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    dropped_tokens: Counter[str] = field(default_factory=Counter)  # tokens of the dropped items, per reason

    def as_dict(self, with_tokens: bool = False) -> dict[str, Any]:
        counts = {"stage": self.name, "unit": self.unit, "in": self.seen, "out": self.kept,
                  "dropped": dict(sorted(self.dropped.items()))}
        if with_tokens:
            counts["dropped_tokens"] = {why: self.dropped_tokens[why] for why in sorted(self.dropped)}
        return counts


@dataclass
class SplitCount:
    files: set[str] = field(default_factory=set)
    modules: int = 0
    chars: int = 0
    fragments: int = 0
    tokens: int = 0
    frag_hidden: int = 0
    frag_every: int = 0

    def as_dict(self, with_tokens: bool) -> dict[str, Any]:
        counts = {"files": len(self.files), "modules": self.modules, "chars": self.chars, "fragments": self.fragments}
        if with_tokens:
            counts.update(tokens=self.tokens, frag_hidden=self.frag_hidden, frag_every=self.frag_every)
        return counts


@dataclass
class CorpusStats:
    stages: dict[str, StageCount] = field(default_factory=dict)
    splits: dict[str, SplitCount] = field(default_factory=dict)
    sources: dict[str, Counter[str]] = field(default_factory=dict)

    def stage(self, name: str, unit: str) -> StageCount:
        return self.stages.setdefault(name, StageCount(name, unit))

    def split(self, name: str) -> SplitCount:
        return self.splits.setdefault(name, SplitCount())

    def source(self, name: str) -> Counter[str]:
        return self.sources.setdefault(name, Counter())

    def as_dict(self, config: dict[str, Any], with_tokens: bool) -> dict[str, Any]:
        return {
            "config": config,
            "stages": [stage.as_dict(with_tokens) for stage in self.stages.values()],
            "splits": {name: split.as_dict(with_tokens) for name, split in sorted(self.splits.items())},
            "sources": {name: dict(counts) for name, counts in sorted(self.sources.items())},
        }


def format_table(report: dict[str, Any]) -> str:
    """The report as fixed-width text for the terminal."""
    lines = [f"{'stage':<10} {'unit':<13} {'in':>8} {'out':>8}  dropped"]
    for stage in report["stages"]:
        dropped = ", ".join(f"{why} {n}" for why, n in stage["dropped"].items()) or "-"
        lines.append(f"{stage['stage']:<10} {stage['unit']:<13} {stage['in']:>8} {stage['out']:>8}  {dropped}")
    lines.append("")
    columns = ["files", "modules", "chars", "fragments", "tokens", "frag_hidden", "frag_every"]
    present = [c for c in columns if any(c in split for split in report["splits"].values())]
    lines.append(f"{'split':<10} " + " ".join(f"{c:>12}" for c in present))
    for name, split in report["splits"].items():
        lines.append(f"{name:<10} " + " ".join(f"{split.get(c, 0):>12}" for c in present))
    lines.append("")
    lines.append(f"{'source':<28} {'files':>6} {'found':>6} {'kept':>6} {'tokens':>9} {'pairs':>6}")
    for name, counts in report["sources"].items():
        pairs = counts.get("pairs_train", 0) + counts.get("pairs_heldout", 0)
        lines.append(f"{name:<28} {counts.get('files', 0):>6} {counts.get('found', 0):>6} {counts.get('kept', 0):>6}"
                     f" {counts.get('kept_tokens', 0):>9} {pairs:>6}")
    return "\n".join(lines)
