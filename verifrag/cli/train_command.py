"""`verifrag train data|synth|sft|distill|medusa|salv`: offline training steps.

`data` builds the corpus (implemented here, see docs/corpus.md). `medusa` and `salv` are thin
dispatchers to `verifrag.training.medusa.cli` and `verifrag.training.salv.cli`; a step whose module is
not installed is simply not offered, so `verifrag train --help` works either way.
"""

from __future__ import annotations

import argparse
import importlib
from typing import Callable

_DISPATCHED = {
    "sft": ("verifrag.training.sft.cli",
            "Supervised tuning: instruction pairs (answer-only loss) and raw Verilog, LoRA on the base."),
    "synth": ("verifrag.training.corpus.synthetic_cli",
              "Synthetic basic-construct pairs (gates, muxes, counters, ...), each template checked by simulation."),
    "distill": ("verifrag.training.medusa.distill_cli",
                "Self-distillation: a tuned checkpoint's own continuations, as Medusa training text."),
    "medusa": ("verifrag.training.medusa.cli", "Train Medusa heads (Medusa-1/-2) on the corpus."),
    "salv": ("verifrag.training.salv.cli", "SALV: rollouts, signal-aware verification and signal-level DPO."),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    steps = parser.add_subparsers(dest="train_step", metavar="STEP", parser_class=type(parser))
    data = steps.add_parser("data", help="Build the Verilog training corpus (JSONL).",
                            description="Build the Verilog training corpus: split, filter, deduplicate, split by file.")
    _add_data_arguments(data)
    data.set_defaults(_train_run=_run_data)
    for name, (module_name, help_text) in _DISPATCHED.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            continue
        step = steps.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(step)
        step.set_defaults(_train_run=module.run)


def _add_data_arguments(parser: argparse.ArgumentParser) -> None:
    from verifrag.training.corpus.dedup import DEFAULT_NUM_PERM, DEFAULT_SHINGLE, DEFAULT_THRESHOLD

    parser.add_argument("--dir", action="append", default=[], metavar="PATH",
                        help="directory of .v/.sv files (repeatable)")
    parser.add_argument("--package", action="append", default=[], metavar="NAME",
                        help="installed pythondata package, e.g. pythondata-cpu-serv (repeatable)")
    parser.add_argument("--all-packages", action="store_true", help="every installed pythondata-* package")
    parser.add_argument("--out", default="data/corpus", metavar="DIR", help="output directory (default data/corpus)")
    parser.add_argument("--seed", type=int, default=0, help="seed for the split and MinHash (default 0)")
    parser.add_argument("--heldout-fraction", type=float, default=0.1, metavar="F",
                        help="fraction of files held out (default 0.1)")
    parser.add_argument("--max-chars", type=int, default=32_000, metavar="N",
                        help="drop modules longer than N characters; 0 keeps all (default 32000)")
    parser.add_argument("--dedup-threshold", type=float, default=DEFAULT_THRESHOLD, metavar="J",
                        help=f"Jaccard similarity that counts as a near duplicate (default {DEFAULT_THRESHOLD})")
    parser.add_argument("--num-perm", type=int, default=DEFAULT_NUM_PERM, help=f"MinHash permutations (default {DEFAULT_NUM_PERM})")
    parser.add_argument("--shingle", type=int, default=DEFAULT_SHINGLE, help=f"tokens per shingle (default {DEFAULT_SHINGLE})")
    parser.add_argument("--benchmarks", action="append", default=[], metavar="DIR",
                        help="VerilogEval-v2-layout directory (*_prompt.txt, *_ref.sv) to decontaminate against: "
                             "records sharing code or problem-text n-grams are dropped (repeatable)")
    parser.add_argument("--autovcoder", default=None, metavar="FILE.jsonl",
                        help="AutoVCoder problems.jsonl: compiling references become instruction pairs, "
                             "decontaminated and deduplicated like the modules")
    parser.add_argument("--tokenizer", default=None, metavar="BASE",
                        help="base model whose tokenizer counts tokens (HF dir or .gguf; default: the default base)")
    parser.add_argument("--no-token-stats", action="store_true", help="skip token and [FRAG] counts (no tokenizer load)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    from verifrag.errors import UserError

    step: Callable[[argparse.Namespace], int] | None = getattr(args, "_train_run", None)
    if step is None:
        raise UserError("choose a step: verifrag train data|medusa|salv (see verifrag train --help)")
    return int(step(args) or 0)


def _run_data(args: argparse.Namespace) -> int:
    import json
    import time
    from pathlib import Path

    from verifrag.errors import UserError
    from verifrag.training.corpus.dedup import DedupConfig
    from verifrag.training.corpus.pipeline import CorpusConfig, build_corpus
    from verifrag.training.corpus.sources import directory_root, installed_packages, package_root
    from verifrag.training.corpus.stats import format_table

    packages = list(args.package) + (installed_packages() if args.all_packages else [])
    roots = [directory_root(d) for d in args.dir] + [package_root(p) for p in dict.fromkeys(packages)]
    if not roots:
        raise UserError("no input: give --dir PATH, --package NAME or --all-packages")
    if not 0.0 <= args.heldout_fraction < 1.0:
        raise UserError("--heldout-fraction must be in [0, 1)")
    if not 0.0 < args.dedup_threshold <= 1.0:
        raise UserError("--dedup-threshold must be in (0, 1]")
    if args.num_perm < 2 or args.shingle < 1 or args.max_chars < 0:
        raise UserError("--num-perm must be >= 2, --shingle >= 1, --max-chars >= 0")
    tokenizer = None if args.no_token_stats else _load_tokenizer(args.tokenizer)
    config = CorpusConfig(
        roots=tuple(roots), out=Path(args.out), seed=args.seed, heldout_fraction=args.heldout_fraction,
        max_chars=args.max_chars, progress=not args.no_progress,
        dedup=DedupConfig(args.dedup_threshold, args.num_perm, args.shingle, args.seed),
        benchmarks=tuple(Path(d) for d in args.benchmarks),
        autovcoder=Path(args.autovcoder) if args.autovcoder else None,
    )
    started = time.perf_counter()
    report = build_corpus(config, tokenizer)
    seconds = time.perf_counter() - started
    # Wall time lives apart from stats.json, which must be identical across runs with one seed.
    (config.out / "run.json").write_text(json.dumps({"seconds": round(seconds, 2)}) + "\n", encoding="utf-8")
    print(format_table(report))
    print(f"\nwrote {config.out}/train.jsonl, heldout.jsonl, pairs.jsonl, pairs_heldout.jsonl, stats.json "
          f"in {seconds:.1f} s")
    return 0


def _load_tokenizer(reference: str | None) -> object:
    """The base model's tokenizer with `[FRAG]` added (tokenizer files only; the model is not loaded)."""
    from transformers import AutoTokenizer

    from verifrag.model.base import resolve_base
    from verifrag.model.tokenizer import add_frag_token

    tokenizer = AutoTokenizer.from_pretrained(resolve_base(reference), local_files_only=True)
    add_frag_token(tokenizer)
    return tokenizer
