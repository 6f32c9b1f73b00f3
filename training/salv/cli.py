"""`verifrag train salv`: rollouts -> pairs -> signal-level DPO, one stage or all.

Stages share a work folder so each can be rerun alone: sampling and
simulation are cached there and resume after an interruption.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

STAGES = ("rollouts", "pairs", "train", "all")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stage", choices=STAGES, default="all", help="which step to run (default all)")
    parser.add_argument("--work", required=True, metavar="DIR", help="folder for rollouts, verdicts and pairs")
    parser.add_argument("--data", metavar="FILE.jsonl", help="tasks: corpus train.jsonl (instruction + reference module), AutoVCoder problems.jsonl "
                                                            "(problem + reference) or corpus pairs.jsonl (prompt + answer)")
    parser.add_argument("--checkpoint", metavar="DIR", help="checkpoint to sample from and tune (default: bundled)")
    parser.add_argument("--output", metavar="DIR", help="where the tuned checkpoint goes (train stage)")
    parser.add_argument("--device", default="auto", help="torch device (default auto)")
    rollouts = parser.add_argument_group("rollouts")
    rollouts.add_argument("--limit", type=int, metavar="N", help="use the first N usable prompts (after --skip)")
    rollouts.add_argument("--skip", type=int, default=0, metavar="N",
                          help="pass over the first N usable prompts, e.g. those an earlier round sampled (default 0)")
    rollouts.add_argument("--max-reference-chars", type=int, metavar="N", help="skip references longer than N chars")
    rollouts.add_argument("--samples", type=int, default=5, help="samples per prompt (default 5)")
    rollouts.add_argument("--temperature", type=float, default=1.0, help="0 = greedy (default 1.0)")
    rollouts.add_argument("--top-p", type=float, default=0.95, help="nucleus sampling (default 0.95)")
    rollouts.add_argument("--max-new-tokens", type=int, default=384, help="token budget per sample (default 384)")
    rollouts.add_argument("--decoder", choices=("ntp", "medusa"), default="ntp", help="decoder (default ntp)")
    rollouts.add_argument("--seed", type=int, default=0, help="sample i is seeded with seed + i; also DPO's seed")
    rollouts.add_argument("--interface-prompts", action="store_true",
                          help="list each reference's ports in its prompt and ask for TopModule, as "
                               "`verifrag train sft --interface-prompts` trains (the default model was tuned so)")
    pairs = parser.add_argument_group("pairs")
    pairs.add_argument("--vectors", type=int, default=256, help="random test vectors per verification")
    pairs.add_argument("--sim-timeout", type=float, default=20.0, metavar="S", help="simulation limit in CPU seconds")
    pairs.add_argument("--no-isolation", action="store_true",
                       help="UNSAFE: simulate without bubblewrap/unshare isolation (screening and limits stay)")
    train = parser.add_argument_group("train")
    train.add_argument("--level", choices=("signal", "module"), default="signal",
                       help="signal: contrasted signals' tokens only (SALV); module: whole completions (ablation)")
    train.add_argument("--beta", type=float, default=0.1)
    train.add_argument("--lr", type=float, default=5e-6)
    train.add_argument("--rank", type=int, default=8, help="LoRA rank")
    train.add_argument("--epochs", type=int, default=1)
    train.add_argument("--batch-size", type=int, default=2, help="pairs per step")
    train.add_argument("--max-pairs", type=int, metavar="N", help="train on the first N pairs only")
    train.add_argument("--reset-contrast", type=int, default=0, metavar="N",
                       help="add N reset-timing contrast pairs: synthetic designs against the same module with the "
                            "other reset timing, written to WORK/reset_contrast.jsonl (default 0)")
    train.add_argument("--mixed-precision", choices=("auto", "no", "bf16"), default="auto",
                       help="bf16: bfloat16 autocast for policy and reference passes, LoRA and optimizer in float32; "
                            "auto (default): bf16 where the CPU or GPU has native bfloat16, else no (float32)")


def run(args: argparse.Namespace) -> int:
    from verifrag.errors import UserError
    from verifrag.model.checkpoint import DEFAULT_CHECKPOINT
    from verifrag.simulation.sandbox import Limits
    from verifrag.training.salv.rollouts import RolloutSettings, run_rollouts
    from verifrag.training.salv.stages import PAIRS_FILE, pairs_stage
    from verifrag.training.salv.tasks import read_tasks
    from verifrag.training.salv.trainer import DpoSettings, train_salv

    work = Path(args.work)
    progress = sys.stderr.isatty()
    if args.stage in ("train", "all") and not args.output:
        raise UserError("--output is required to train")
    if args.stage in ("rollouts", "all"):
        if not args.data:
            raise UserError("--data is required to sample rollouts")
        if args.samples < 1:
            raise UserError("--samples must be 1 or more")
        if args.skip < 0:
            raise UserError("--skip must be 0 or more")
        tasks, skipped = read_tasks(args.data, limit=args.limit, skip=args.skip,
                                    max_reference_chars=args.max_reference_chars,
                                    interface_prompts=args.interface_prompts)
        if not tasks:
            raise UserError(f"no usable prompts in {args.data} ({skipped} skipped)")
        settings = RolloutSettings(str(Path(args.checkpoint or DEFAULT_CHECKPOINT).resolve()), args.samples,
                                   args.temperature, args.top_p, args.max_new_tokens, args.decoder, args.seed,
                                   args.interface_prompts)
        print(f"salv: {len(tasks)} prompts ({skipped} skipped) x {args.samples} samples", file=sys.stderr)
        run_rollouts(tasks, work, settings, progress=progress)
    if args.stage in ("pairs", "all"):
        limits = Limits(run_seconds=args.sim_timeout, isolate=not args.no_isolation)
        stats = pairs_stage(work, vectors=args.vectors, limits=limits, progress=progress)
        print(json.dumps(stats, indent=2))
    if args.stage in ("train", "all"):
        settings = DpoSettings(args.beta, args.lr, args.rank, args.epochs, args.batch_size, level=args.level,
                               max_pairs=args.max_pairs, reset_contrast=args.reset_contrast, seed=args.seed,
                               mixed_precision=args.mixed_precision)
        summary = train_salv(work / PAIRS_FILE, Path(args.output), settings, checkpoint=args.checkpoint,
                             device=args.device, progress=progress)
        print(json.dumps(summary, indent=2))
    return 0
