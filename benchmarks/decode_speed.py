"""Next-token vs Medusa decoding speed on the first VerilogEval v2 spec-to-rtl prompts, and the cost of
one tree verification pass by tree size relative to a single-token step (which trees can pay off here).

    python benchmarks/decode_speed.py [--limit 20] [--max-new-tokens 128] [--repeats 3] [--dtype auto]
        [--sizes 0,1,8,16,32,64] [--out benchmarks/decode_speed.md]

Writes a Markdown table with the machine described. Speed is measured here, never asserted in tests.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from verifrag.evaluation.problems import load_problems
from verifrag.evaluation.speed import compare, machine_description, tree_step_cost
from verifrag.evaluation.speed_report import speed_table, tree_cost_table
from verifrag.model.engine import Engine
from verifrag.model.prompting import module_prompt

PROBLEMS = Path(__file__).resolve().parents[2] / "shared/benchmarks/verilog-eval-v2/dataset_spec-to-rtl"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--problems", type=Path, default=PROBLEMS)
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--checkpoint", type=Path)
    parser.add_argument("--tree-nodes", type=int)
    parser.add_argument("--dtype", default="auto", help="as for verifrag bench (default: auto)")
    parser.add_argument("--sizes", default="0,1,8,16,32,64", help="tree sizes for the per-step cost table")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("decode_speed.md"))
    args = parser.parse_args()

    machine = machine_description()
    engine = Engine.load(args.checkpoint, dtype=args.dtype, tree_nodes=args.tree_nodes)
    problems = list(load_problems(args.problems).values())[: args.limit]
    prompts = [module_prompt(p.prompt, engine.lm.tokenizer)[0] for p in problems]
    summaries, matches = compare(
        engine, prompts, ["ntp", "ntp_transformers", "medusa", "medusa_frag", "hybrid"], args.max_new_tokens, args.repeats,
        progress=lambda text: print(text, file=sys.stderr),
    )
    costs = tree_step_cost(engine, prompts[0], [int(s) for s in args.sizes.split(",")])
    provenance = engine.checkpoint.config.provenance
    report = "\n".join([
        "# Decode speed: next-token vs Medusa vs hybrid",
        "",
        f"Command: `python benchmarks/decode_speed.py {' '.join(sys.argv[1:])}`",
        "",
        f"Machine: {machine}",
        "",
        f"Checkpoint: {engine.checkpoint.directory.name} ({provenance.get('note') or provenance.get('command', 'see verifrag.json')}); "
        f"{engine.checkpoint.heads.num_heads} heads, candidate tree of {engine.tree.num_nodes} nodes.",
        "",
        f"{len(prompts)} prompts (the first {len(prompts)} spec-to-rtl problems in the chat template), "
        f"{args.max_new_tokens} new tokens at most, greedy, {args.repeats} interleaved repeats. "
        "Ratios are against our next-token decoder.",
        "",
        speed_table(summaries, matches, len(prompts)),
        "",
        "## Cost of one verification pass by tree size",
        "",
        f"Runtime: {'lean, ' + engine.lm.lean.weight_format + ' weights' if engine.lm.lean else 'transformers'}. "
        "Median of 10 passes on top of the first prompt's KV cache, with the LM-head rows of a greedy acceptance walk. A tree of n nodes can only pay off if "
        "the mean accepted length exceeds this ratio.",
        "",
        tree_cost_table(costs),
        "",
    ])
    args.out.write_text(report)
    print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
