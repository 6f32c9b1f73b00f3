"""`verifrag train data`: Verilog sources in, deduplicated standalone modules out as JSONL.

Stages, each a generator so only one file's text and one module at a time are in memory (the
near-duplicate index holds signatures only):

  read -> split (modules) -> structure (truncated / empty / too long) -> syntax (parses alone)
       -> dedup (MinHash-LSH) -> write (train/held-out by file; optional token counts)

Syntax checking comes before dedup so that a broken copy never takes the place of a valid one.
Given the same inputs and seed, every output file is identical byte for byte.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from tqdm import tqdm

from verifrag.syntax.fragments import fragments
from verifrag.training.corpus.dedup import DedupConfig, NearDuplicateFilter
from verifrag.training.corpus.modules import ModuleUnit, split_modules
from verifrag.training.corpus.records import to_record
from verifrag.training.corpus.sources import SourceFile, SourceRoot, iter_files, module_files
from verifrag.training.corpus.split import HELDOUT, TRAIN, split_of
from verifrag.training.corpus.stats import CorpusStats
from verifrag.training.corpus.syntax import Verdict, check_module

DEFAULT_MAX_CHARS = 32_000  # ~10k tokens: longer modules (generated cores) exceed any training window
DEFAULT_HELDOUT_FRACTION = 0.1
STAGES = (("read", "files"), ("split", "files>modules"), ("structure", "modules"), ("syntax", "modules"),
          ("dedup", "modules"), ("write", "modules"))


@dataclass(frozen=True)
class CorpusConfig:
    roots: tuple[SourceRoot, ...]
    out: Path
    seed: int = 0
    heldout_fraction: float = DEFAULT_HELDOUT_FRACTION
    max_chars: int = DEFAULT_MAX_CHARS  # 0 = no limit
    dedup: DedupConfig = field(default_factory=DedupConfig)
    progress: bool = True

    def describe(self) -> dict[str, Any]:
        """What determines the output, for stats.json (no machine-specific paths)."""
        return {
            "sources": [root.name for root in self.roots],
            "seed": self.seed,
            "heldout_fraction": self.heldout_fraction,
            "max_chars": self.max_chars,
            "dedup": asdict(self.dedup),
        }


@dataclass(frozen=True)
class _Kept:
    unit: ModuleUnit
    tokens: tuple[str, ...]  # significant tokens of the module's code


class _Pipeline:
    def __init__(self, config: CorpusConfig, stats: CorpusStats) -> None:
        self.config = config
        self.stats = stats
        self._bars: list[tqdm] = []
        # Registered up front so the report lists stages in pipeline order (generators start lazily).
        for name, unit in STAGES:
            stats.stage(name, unit)

    def bar(self, items: Iterable[Any], desc: str, total: int | None = None) -> Iterator[Any]:
        bar = tqdm(items, desc=f"{desc:<9}", total=total, position=len(self._bars), leave=True,
                   disable=not self.config.progress, dynamic_ncols=True)
        self._bars.append(bar)
        return iter(bar)

    def close(self) -> None:
        for bar in self._bars:
            bar.close()

    def read(self) -> Iterator[SourceFile]:
        count = self.stats.stage("read", "files")
        total = sum(len(module_files(root)) for root in self.config.roots)
        for file in self.bar(iter_files(self.config.roots), "read", total):
            count.seen += 1
            count.kept += 1
            self.stats.source(file.source)["files"] += 1
            yield file

    def split(self, files: Iterable[SourceFile]) -> Iterator[ModuleUnit]:
        count = self.stats.stage("split", "files>modules")
        for file in files:
            found = 0
            for unit in split_modules(file):
                found += 1
                yield unit
            count.seen += 1  # files in, modules out
            count.kept += found
            self.stats.source(file.source)["found"] += found
            if not found:
                count.dropped["files_without_modules"] += 1

    def structure(self, units: Iterable[ModuleUnit]) -> Iterator[ModuleUnit]:
        count = self.stats.stage("structure", "modules")
        for unit in self.bar(units, "structure"):
            count.seen += 1
            if not unit.complete:
                count.dropped["truncated"] += 1
            elif unit.body_tokens == 0:
                count.dropped["empty_or_comment_only"] += 1
            elif self.config.max_chars and len(unit.text) > self.config.max_chars:
                count.dropped["too_long"] += 1
            else:
                count.kept += 1
                yield unit

    def syntax(self, units: Iterable[ModuleUnit]) -> Iterator[ModuleUnit]:
        count = self.stats.stage("syntax", "modules")
        for unit in self.bar(units, "syntax"):
            count.seen += 1
            verdict = check_module(unit.code)
            if verdict is Verdict.OK:
                count.kept += 1
                yield unit
            else:
                count.dropped[verdict.value] += 1

    def dedup(self, units: Iterable[ModuleUnit]) -> Iterator[_Kept]:
        count = self.stats.stage("dedup", "modules")
        index = NearDuplicateFilter(self.config.dedup)
        for unit in self.bar(units, "dedup"):
            count.seen += 1
            tokens = tuple(f.text for f in fragments(unit.code))
            if index.admit(tokens):
                count.kept += 1
                yield _Kept(unit, tokens)
            else:
                count.dropped["near_duplicate"] += 1


def _record_ids(kept: Iterable[_Kept]) -> Iterator[tuple[_Kept, str]]:
    """Ids `source/file::module`, with `#n` for a module name repeated within one file."""
    seen: Counter[tuple[str, str, str]] = Counter()
    for item in kept:
        unit = item.unit
        key = (unit.source, unit.file, unit.name)
        seen[key] += 1
        suffix = f"#{seen[key]}" if seen[key] > 1 else ""
        yield item, f"{unit.source}/{unit.file}::{unit.name}{suffix}"


def build_corpus(config: CorpusConfig, tokenizer: Any = None) -> dict[str, Any]:
    """Run every stage, write train.jsonl, heldout.jsonl and stats.json under `config.out`; return the report.

    With a tokenizer (one that has `[FRAG]`), the report also counts tokens and the `[FRAG]` tokens
    each insertion rule would add.
    """
    if not 0.0 <= config.heldout_fraction < 1.0:
        raise ValueError("heldout fraction must be in [0, 1)")
    if tokenizer is not None:  # transformers and torch load only when tokens are counted
        from verifrag.training.frag_insertion import frag_counts
    config.out.mkdir(parents=True, exist_ok=True)
    stats = CorpusStats()
    pipeline = _Pipeline(config, stats)
    write = stats.stage("write", "modules")
    for split in (TRAIN, HELDOUT):
        stats.split(split)
    outputs = {split: (config.out / f"{split}.jsonl").open("w", encoding="utf-8") for split in (TRAIN, HELDOUT)}
    try:
        kept = pipeline.dedup(pipeline.syntax(pipeline.structure(pipeline.split(pipeline.read()))))
        for item, record_id in pipeline.bar(_record_ids(kept), "write"):
            unit = item.unit
            split = split_of(unit.source, unit.file, config.seed, config.heldout_fraction)
            outputs[split].write(json.dumps(to_record(unit, record_id), ensure_ascii=False) + "\n")
            write.seen += 1
            write.kept += 1
            stats.source(unit.source)["kept"] += 1
            counts = stats.split(split)
            counts.files.add(f"{unit.source}/{unit.file}")
            counts.modules += 1
            counts.chars += len(unit.text)
            counts.fragments += len(item.tokens)
            if tokenizer is not None:
                tokens, hidden, every = frag_counts(unit.text, tokenizer)
                counts.tokens += tokens
                counts.frag_hidden += hidden
                counts.frag_every += every
    finally:
        for handle in outputs.values():
            handle.close()
        pipeline.close()
    report = stats.as_dict(config.describe(), with_tokens=tokenizer is not None)
    (config.out / "stats.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report

