"""`verifrag train synth`: write synthetic basic-construct pairs, decontaminated, as a pairs JSONL.

The file feeds `verifrag train sft --pairs` beside the corpus' own pairs. Records that share code or
problem-text n-grams with an evaluation set (`--benchmarks`, the same rule as `verifrag train data`)
are dropped and counted, and every module must parse on its own.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from verifrag.errors import UserError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from verifrag.training.corpus.synthetic import FAMILIES

    parser.add_argument("--out", required=True, metavar="FILE.jsonl", help="pairs file to write")
    parser.add_argument("--count", type=int, default=1000, metavar="N", help="pairs to generate (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    parser.add_argument("--family", action="append", default=[], choices=sorted(FAMILIES), metavar="NAME",
                        help=f"only these families (repeatable; default all: {', '.join(FAMILIES)})")
    parser.add_argument("--benchmarks", action="append", default=[], metavar="DIR",
                        help="VerilogEval-v2-layout directory to decontaminate against (repeatable)")


def run(args: argparse.Namespace) -> int:
    from verifrag.training.corpus.decontam import BenchmarkIndex
    from verifrag.training.corpus.synthetic import generate
    from verifrag.training.corpus.syntax import Verdict, check_module

    if args.count < 1:
        raise UserError("--count must be at least 1")
    out = Path(args.out)
    if out.is_dir():
        raise UserError(f"--out is a directory: {out}")
    index = BenchmarkIndex.from_dirs(args.benchmarks) if args.benchmarks else None
    generated = generate(args.count, args.seed, args.family or None)
    kept, dropped = [], Counter()
    for record in generated.records:
        if check_module(record["answer"]) is not Verdict.OK:
            reason = "syntax"
        else:
            reason = index.contamination(record["answer"], record["prompt"]) if index is not None else None
        if reason:
            dropped[reason] += 1
        else:
            kept.append(record)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(r) + "\n" for r in kept), encoding="utf-8")
    families = Counter(r["path"].split("/")[0] for r in kept)
    print(f"wrote {len(kept)} pairs to {out} ({generated.duplicates} repeats regenerated; dropped: "
          f"{', '.join(f'{k} {v}' for k, v in sorted(dropped.items())) or 'none'})")
    print("per family: " + ", ".join(f"{name} {count}" for name, count in sorted(families.items())))
    return 0
