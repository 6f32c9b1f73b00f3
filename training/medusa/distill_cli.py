"""`verifrag train distill`: the tuned model's own continuations, as training text for Medusa heads."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", required=True, metavar="DIR", help="the tuned checkpoint whose model writes")
    parser.add_argument("--pairs", action="append", default=[], metavar="FILE.jsonl",
                        help="instruction pairs whose specs become module prompts (repeatable)")
    parser.add_argument("--raw", action="append", default=[], metavar="FILE.jsonl",
                        help="raw corpus records whose first --prefix-tokens tokens become prompts (repeatable)")
    parser.add_argument("--out", required=True, metavar="FILE.jsonl",
                        help="output ({text} records for `verifrag train medusa --data`); a rerun resumes it")
    parser.add_argument("--prefix-tokens", type=int, default=96, metavar="N", help="raw prompt length (default 96)")
    parser.add_argument("--max-new-tokens", type=int, default=256, metavar="N", help="per prompt (default 256)")
    parser.add_argument("--batch-size", type=int, default=16, metavar="N", help="prompts per generate call (default 16)")
    parser.add_argument("--limit", type=int, default=0, metavar="N", help="first N prompts of each kind (0: all)")


def run(args: argparse.Namespace) -> int:
    from verifrag.errors import UserError
    from verifrag.model.engine import Engine
    from verifrag.training.medusa.distill import distill, pair_prompts, raw_prompts

    if not args.pairs and not args.raw:
        raise UserError("give prompts: --pairs FILE and/or --raw FILE")
    if args.batch_size < 1 or args.max_new_tokens < 1 or args.prefix_tokens < 1 or args.limit < 0:
        raise UserError("--batch-size, --max-new-tokens and --prefix-tokens must be positive, --limit >= 0")
    engine = Engine.load(args.checkpoint, device="auto", dtype="float32")
    tokenizer = engine.lm.tokenizer
    limit = args.limit or None
    prompts = pair_prompts(args.pairs, tokenizer)[:limit] + raw_prompts(args.raw, tokenizer, args.prefix_tokens)[:limit]
    written = distill(engine.lm.model, tokenizer, prompts, Path(args.out), args.max_new_tokens, args.batch_size)
    print(f"verifrag train distill: {written} new records in {args.out} ({len(prompts)} prompts)")
    return 0
