"""`verifrag bench`: decoding speed of every method on the same prompts, model, hardware and run."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from verifrag.errors import UserError
from verifrag.model.options import DTYPE_HELP, DTYPES

DEFAULT_PROBLEMS = Path("../shared/benchmarks/verilog-eval-v2/dataset_spec-to-rtl")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--problems", type=Path, default=DEFAULT_PROBLEMS,
                        help=f"VerilogEval-layout folder whose prompts are used (default: {DEFAULT_PROBLEMS})")
    parser.add_argument("--limit", type=int, default=20, help="use the first N problems (default: 20)")
    parser.add_argument("--max-new-tokens", type=int, default=128, metavar="N", help="default: 128")
    parser.add_argument("--methods", default="hf_greedy,ntp,ntp_transformers,medusa,medusa_frag,hybrid,prompt_lookup,assisted,"
                                             "llama_cpp,llama_cpp_lookup",
                        help="comma-separated subset of hf_greedy, ntp, ntp_transformers, medusa, medusa_frag, hybrid, "
                             "prompt_lookup, assisted, llama_cpp, llama_cpp_lookup (the llama.cpp peers need "
                             "llama-cpp-python: scripts/install.sh --llama)")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved repeats for the spread (default: 3)")
    parser.add_argument("--checkpoint", type=Path, help="checkpoint directory (default: the bundled one)")
    parser.add_argument("--tree-nodes", type=int, metavar="N", help="rebuild the candidate tree with N nodes")
    parser.add_argument("--draft-model", type=Path,
                        help="HF directory of a smaller model with the same tokenizer, for assisted generation")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--dtype", default="auto", choices=DTYPES, help=DTYPE_HELP)
    parser.add_argument("--runtime", default="auto", choices=("auto", "lean", "transformers"),
                        help="auto: our lean forward on a CPU for Llama/Qwen2/Mistral, else transformers' (default: auto)")
    parser.add_argument("--out", type=Path, default=None,
                        help="where speed.md and the PNG plots go (default: a new runs/bench-DATE-TIME folder; "
                             "the committed figures in benchmarks/results are only written when named here)")
    parser.add_argument("--json", action="store_true", help="also print the figures as one JSON object")


def run(args: argparse.Namespace) -> int:
    from verifrag.evaluation.problems import load_problems
    from verifrag.evaluation.speed import METHODS, compare, machine_description
    from verifrag.evaluation.speed_report import plot, speed_table
    from verifrag.model.base import load_base
    from verifrag.model.engine import Engine
    from verifrag.model.prompting import module_prompt

    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        raise UserError(f"unknown method(s) {', '.join(unknown)}; choose from {', '.join(METHODS)}")
    if not args.problems.is_dir():
        raise UserError(f"problem folder {args.problems} does not exist")
    problems = list(load_problems(args.problems).values())[: args.limit]
    if not problems:
        raise UserError(f"no VerilogEval-layout problems in {args.problems}")
    if args.repeats < 1 or args.max_new_tokens < 1:
        raise UserError("--repeats and --max-new-tokens must be at least 1")
    machine = machine_description()
    engine = Engine.load(args.checkpoint, device=args.device, dtype=args.dtype, tree_nodes=args.tree_nodes,
                         runtime=args.runtime)
    draft = None
    llama = [m for m in methods if m.startswith("llama_cpp")]
    if llama:
        import importlib.util

        if importlib.util.find_spec("llama_cpp") is None:
            print(f"verifrag bench: {', '.join(llama)} skipped: llama-cpp-python is not installed "
                  "(bash scripts/install.sh --llama builds it, about 30 minutes on 2 cores)", file=sys.stderr)
            methods = [m for m in methods if m not in llama]
    if "assisted" in methods:
        if args.draft_model is None:
            print("verifrag bench: assisted generation skipped: no --draft-model given (no smaller model "
                  "sharing the default tokenizer ships with the default installation)", file=sys.stderr)
        else:
            draft, _ = load_base(str(args.draft_model), engine.lm.device, engine.lm.dtype)
    prompts = [module_prompt(p.prompt, engine.lm.tokenizer)[0] for p in problems]
    summaries, identical = compare(
        engine, prompts, methods, args.max_new_tokens, args.repeats, draft,
        progress=lambda text: print(f"verifrag bench: {text}", file=sys.stderr),
    )
    table = speed_table(summaries, identical, len(prompts))
    if args.out is None:
        args.out = Path("runs") / time.strftime("bench-%Y%m%d-%H%M%S")
    args.out.mkdir(parents=True, exist_ok=True)
    pictures = plot(summaries, args.out)
    command = "verifrag bench " + " ".join(sys.argv[2:])
    report = (f"# Decoding speed\n\nCommand: `{command}`\n\nMachine: {machine}\n\n"
              f"{len(prompts)} prompts from {args.problems.name}, {args.max_new_tokens} new tokens each, "
              f"{args.repeats} interleaved repeats; candidate tree of {engine.tree.num_nodes} nodes; model in "
              f"{str(engine.lm.dtype).removeprefix('torch.')}; runtime: "
              f"{'lean, ' + engine.lm.lean.weight_format + ' weights' if engine.lm.lean else 'transformers'}.\n\n{table}\n\n"
              + "".join(f"![{p.stem}]({p.name})\n" for p in pictures))
    (args.out / "speed.md").write_text(report)
    print(table)
    print(f"verifrag bench: report and plots in {args.out}", file=sys.stderr)
    if args.json:
        print(json.dumps({name: {"tokens_per_s": s.tokens_per_s, "mean_accepted": s.mean_accepted,
                                 "per_head_acceptance": s.per_head_acceptance, "frag_discarded": s.frag_discarded,
                                 "identical_to_ntp": identical.get(name, 0)} for name, s in summaries.items()}))
    return 0
