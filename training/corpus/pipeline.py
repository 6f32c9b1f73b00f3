"""`verifrag train data`: Verilog sources in, licensed, deduplicated, decontaminated modules and
instruction pairs out as JSONL.

Stages, each a generator so only one file's text and one module at a time are in memory (the
duplicate indexes hold hashes and signatures only):

  read -> license (allowed licence) -> split (modules) -> structure (truncated / empty / too long)
       -> syntax (parses alone) -> decontam (benchmark code and text n-grams)
       -> dedup (exact, then MinHash-LSH) -> write (train/held-out by file; optional token counts)
       -> pairs (header comment that describes behaviour -> module)
  AutoVCoder problems -> autovcoder (compiles, decontam, the same dedup indexes) -> pairs

Syntax checking and decontamination come before dedup so that a broken or contaminated copy never
takes the place of a clean one. Given the same inputs and seed, every output file is identical byte
for byte.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from tqdm import tqdm

from verifrag.syntax.fragments import fragments
from verifrag.training.corpus.decontam import BenchmarkIndex
from verifrag.training.corpus.dedup import DedupConfig, NearDuplicateFilter
from verifrag.training.corpus.licenses import allowed
from verifrag.training.corpus.modules import ModuleUnit, split_modules
from verifrag.training.corpus.pairs import AUTOVCODER_LICENSE, mined_pair, module_start, pair, read_autovcoder
from verifrag.training.corpus.records import describe, to_record
from verifrag.training.corpus.sources import SourceFile, SourceRoot, iter_files, module_files
from verifrag.training.corpus.split import HELDOUT, TRAIN, split_of
from verifrag.training.corpus.stats import CorpusStats
from verifrag.training.corpus.syntax import Verdict, check_module

DEFAULT_MAX_CHARS = 32_000  # ~10k tokens: longer modules (generated cores) exceed any training window
DEFAULT_HELDOUT_FRACTION = 0.1
STAGES = (("read", "files"), ("license", "files"), ("split", "files>modules"), ("structure", "modules"),
          ("syntax", "modules"), ("decontam", "modules"), ("dedup", "modules"), ("write", "modules"),
          ("pairs", "modules>pairs"), ("autovcoder", "problems"))
PAIRS_FILE = {TRAIN: "pairs.jsonl", HELDOUT: "pairs_heldout.jsonl"}
AUTOVCODER_SOURCE = "autovcoder"


@dataclass(frozen=True)
class CorpusConfig:
    roots: tuple[SourceRoot, ...]
    out: Path
    seed: int = 0
    heldout_fraction: float = DEFAULT_HELDOUT_FRACTION
    max_chars: int = DEFAULT_MAX_CHARS  # 0 = no limit
    dedup: DedupConfig = field(default_factory=DedupConfig)
    progress: bool = True
    benchmarks: tuple[Path, ...] = ()  # VerilogEval-v2-layout directories to decontaminate against
    autovcoder: Path | None = None  # AutoVCoder problems.jsonl, turned into pairs

    def describe(self) -> dict[str, Any]:
        """What determines the output, for stats.json (no machine-specific paths)."""
        return {
            "sources": [root.name for root in self.roots],
            "seed": self.seed,
            "heldout_fraction": self.heldout_fraction,
            "max_chars": self.max_chars,
            "dedup": asdict(self.dedup),
            "benchmarks": [path.name for path in self.benchmarks],
            "autovcoder": self.autovcoder.name if self.autovcoder else None,
        }


@dataclass(frozen=True)
class _Kept:
    unit: ModuleUnit
    tokens: tuple[str, ...]  # significant tokens of the module's code


class _Pipeline:
    def __init__(self, config: CorpusConfig, stats: CorpusStats, tokenizer: Any = None) -> None:
        self.config = config
        self.stats = stats
        self._tokenizer = tokenizer
        self._bars: list[tqdm] = []
        self.benchmarks = BenchmarkIndex.from_dirs(config.benchmarks) if config.benchmarks else None
        self._exact: set[bytes] = set()
        self._near = NearDuplicateFilter(config.dedup)
        # Registered up front so the report lists stages in pipeline order (generators start lazily).
        for name, unit in STAGES:
            stats.stage(name, unit)

    def bar(self, items: Iterable[Any], desc: str, total: int | None = None) -> Iterator[Any]:
        bar = tqdm(items, desc=f"{desc:<9}", total=total, position=len(self._bars), leave=True,
                   disable=not self.config.progress, dynamic_ncols=True)
        self._bars.append(bar)
        return iter(bar)

    def tokens(self, text: str) -> int:
        """Tokens of the text under the report's tokenizer (0 without one)."""
        if self._tokenizer is None:
            return 0
        return len(self._tokenizer(text, add_special_tokens=False)["input_ids"])

    def drop(self, stage: str, reason: str, source: str, text: str) -> None:
        """Count a dropped item under its stage, reason and source, with its tokens."""
        count = self.stats.stages[stage]
        count.dropped[reason] += 1
        tokens = self.tokens(text)
        count.dropped_tokens[reason] += tokens
        per_source = self.stats.source(source)
        per_source[f"dropped_{stage}"] += 1
        per_source[f"dropped_{stage}_tokens"] += tokens

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

    def license(self, files: Iterable[SourceFile]) -> Iterator[SourceFile]:
        count = self.stats.stage("license", "files")
        for file in files:
            count.seen += 1
            self.stats.source(file.source)[f"license:{file.license}"] += 1
            if file.license_required and not allowed(file.license):
                self.drop("license", f"license_{file.license}", file.source, file.text)
                continue
            count.kept += 1
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
                self.drop("structure", "truncated", unit.source, unit.text)
            elif unit.body_tokens == 0:
                self.drop("structure", "empty_or_comment_only", unit.source, unit.text)
            elif self.config.max_chars and len(unit.text) > self.config.max_chars:
                self.drop("structure", "too_long", unit.source, unit.text)
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
                self.drop("syntax", verdict.value, unit.source, unit.text)

    def contamination(self, code: str, text: str) -> str | None:
        """Why the record overlaps an evaluation problem (`benchmark_code`/`benchmark_text`), or None."""
        return None if self.benchmarks is None else self.benchmarks.contamination(code, text)

    def decontam(self, units: Iterable[ModuleUnit]) -> Iterator[ModuleUnit]:
        count = self.stats.stage("decontam", "modules")
        for unit in self.bar(units, "decontam"):
            count.seen += 1
            reason = self.contamination(unit.code, " ".join(filter(None, (describe(unit.header_comment), unit.spec))))
            if reason:
                self.drop("decontam", reason, unit.source, unit.text)
            else:
                count.kept += 1
                yield unit

    def duplicate(self, tokens: tuple[str, ...]) -> str | None:
        """`exact_duplicate` or `near_duplicate` against everything admitted so far; None admits it."""
        digest = hashlib.sha256("\x1f".join(tokens).encode()).digest()
        if digest in self._exact:
            return "exact_duplicate"
        if not self._near.admit(tokens):
            return "near_duplicate"
        self._exact.add(digest)
        return None

    def dedup(self, units: Iterable[ModuleUnit]) -> Iterator[_Kept]:
        count = self.stats.stage("dedup", "modules")
        for unit in self.bar(units, "dedup"):
            count.seen += 1
            tokens = tuple(f.text for f in fragments(unit.code))
            reason = self.duplicate(tokens)
            if reason:
                self.drop("dedup", reason, unit.source, unit.text)
            else:
                count.kept += 1
                yield _Kept(unit, tokens)

    def autovcoder(self, path: Path) -> Iterator[dict[str, Any]]:
        """AutoVCoder problems as pairs: compiling references only, decontaminated and deduplicated
        against everything the corpus already holds."""
        count = self.stats.stage("autovcoder", "problems")
        for problem in self.bar(read_autovcoder(path), "autovcoder"):
            count.seen += 1
            self.stats.source(AUTOVCODER_SOURCE)["found"] += 1
            answer = module_start(problem.reference)
            if not problem.compiles or answer is None:
                self.drop("autovcoder", "not_compiling", AUTOVCODER_SOURCE, problem.reference)
                continue
            reason = self.contamination(answer, problem.problem) or self.duplicate(
                tuple(f.text for f in fragments(answer)))
            if reason:
                self.drop("autovcoder", reason, AUTOVCODER_SOURCE, problem.reference)
                continue
            count.kept += 1
            yield pair(problem.problem, answer, AUTOVCODER_SOURCE, problem.id, AUTOVCODER_LICENSE)


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
    """Run every stage, write train.jsonl, heldout.jsonl, pairs.jsonl, pairs_heldout.jsonl and stats.json
    under `config.out`; return the report.

    With a tokenizer (one that has `[FRAG]`), the report also counts tokens and the `[FRAG]` tokens
    each insertion rule would add.
    """
    if not 0.0 <= config.heldout_fraction < 1.0:
        raise ValueError("heldout fraction must be in [0, 1)")
    if tokenizer is not None:  # transformers and torch load only when tokens are counted
        from verifrag.training.frag_insertion import frag_counts
    config.out.mkdir(parents=True, exist_ok=True)
    stats = CorpusStats()
    pipeline = _Pipeline(config, stats, tokenizer)
    write = stats.stage("write", "modules")
    mining = stats.stage("pairs", "modules>pairs")
    for split in (TRAIN, HELDOUT):
        stats.split(split)
    outputs = {split: (config.out / f"{split}.jsonl").open("w", encoding="utf-8") for split in (TRAIN, HELDOUT)}
    pairs = {split: (config.out / PAIRS_FILE[split]).open("w", encoding="utf-8") for split in (TRAIN, HELDOUT)}
    try:
        files = pipeline.license(pipeline.read())
        kept = pipeline.dedup(pipeline.decontam(pipeline.syntax(pipeline.structure(pipeline.split(files)))))
        for item, record_id in pipeline.bar(_record_ids(kept), "write"):
            unit = item.unit
            split = split_of(unit.source, unit.file, config.seed, config.heldout_fraction)
            record = to_record(unit, record_id)
            outputs[split].write(json.dumps(record, ensure_ascii=False) + "\n")
            mined, verdict = mined_pair(unit)
            mining.seen += 1
            if mined is None:
                mining.dropped[verdict.value] += 1
            else:
                mining.kept += 1
                stats.source(unit.source)[f"pairs_{split}"] += 1
                pairs[split].write(json.dumps(mined, ensure_ascii=False) + "\n")
            write.seen += 1
            write.kept += 1
            stats.source(unit.source)["kept"] += 1
            stats.source(unit.source)["kept_tokens"] += pipeline.tokens(unit.text)
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
        if config.autovcoder is not None:
            # Problems are not files: they all go to the training pairs; `verifrag train sft` holds
            # some out by hash for its own held-out loss.
            for problem_pair in pipeline.autovcoder(config.autovcoder):
                stats.source(AUTOVCODER_SOURCE)["pairs_train"] += 1
                stats.source(AUTOVCODER_SOURCE)["kept_tokens"] += pipeline.tokens(problem_pair["answer"])
                pairs[TRAIN].write(json.dumps(problem_pair, ensure_ascii=False) + "\n")
    finally:
        for handle in (*outputs.values(), *pairs.values()):
            handle.close()
        pipeline.close()
    report = stats.as_dict(config.describe(), with_tokens=tokenizer is not None)
    (config.out / "stats.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report

