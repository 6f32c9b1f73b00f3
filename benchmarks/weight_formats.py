"""The lean runtime's weight formats side by side: next-token speed, and how far each one's greedy
output agrees with float32's, on the same VerilogEval v2 prompts in one run.

    python benchmarks/weight_formats.py [--formats float32,float16,int8,int4] [--limit 20]
        [--max-new-tokens 128] [--repeats 2] [--out benchmarks/weight_formats.md]

The first format is the reference. Agreement: prompts whose whole greedy output equals the reference's,
and the mean share of tokens before the first difference. Also whether greedy Medusa reproduces the
format's own next-token output (the lossless check, per format). Speed is measured here, never
asserted in tests.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import torch

from verifrag.evaluation.problems import load_problems
from verifrag.evaluation.speed import machine_description
from verifrag.model.engine import Engine
from verifrag.model.projections import fbgemm_half_available
from verifrag.model.prompting import module_prompt
from verifrag.model.sampling import DecodeConfig

PROBLEMS = Path(__file__).resolve().parents[2] / "shared/benchmarks/verilog-eval-v2/dataset_spec-to-rtl"


def _prefix_share(tokens: list[int], reference: list[int]) -> float:
    """Share of the reference's tokens produced before the first difference."""
    same = 0
    for a, b in zip(tokens, reference):
        if a != b:
            break
        same += 1
    return same / max(1, len(reference))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--problems", type=Path, default=PROBLEMS)
    parser.add_argument("--formats", default="float32,float16,int8,int4")
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--checkpoint", type=Path)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("weight_formats.md"))
    args = parser.parse_args()

    machine = machine_description()
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    engines = {name: Engine.load(args.checkpoint, device="cpu", dtype=name) for name in formats}
    problems = list(load_problems(args.problems).values())[: args.limit]
    tokenizer = next(iter(engines.values())).lm.tokenizer
    prompts = [module_prompt(p.prompt, tokenizer)[0] for p in problems]
    config = DecodeConfig(max_new_tokens=args.max_new_tokens, snap_fragments=False, stop_at_endmodule=False)
    speeds: dict[str, list[float]] = {name: [] for name in formats}
    outputs: dict[str, list[list[int]]] = {name: [] for name in formats}
    medusa_same = {name: 0 for name in formats}
    for repeat in range(args.repeats):
        totals = {name: [0, 0.0] for name in formats}
        for index, prompt in enumerate(prompts):
            for name, engine in engines.items():  # interleaved, so drift in machine load hits all alike
                engine.lm.prefix_cache.clear()
                result = engine.generate(prompt, "ntp", config)
                totals[name][0] += result.stats.new_tokens
                totals[name][1] += result.stats.seconds
                if repeat == 0:
                    outputs[name].append(result.token_ids)
                    engine.lm.prefix_cache.clear()
                    medusa_same[name] += engine.generate(prompt, "medusa", config).token_ids == result.token_ids
            print(f"repeat {repeat + 1}/{args.repeats}, prompt {index + 1}/{len(prompts)}", file=sys.stderr)
        for name, (tokens, seconds) in totals.items():
            speeds[name].append(tokens / seconds)
    reference = formats[0]
    rows = ["| weights | next-token tokens/s median (min-max) | x " + reference + " | greedy output equal to "
            + reference + " | mean share before the first difference | greedy Medusa equals its next-token |",
            "| --- | --- | --- | --- | --- | --- |"]
    base = statistics.median(speeds[reference])
    for name in formats:
        equal = sum(a == b for a, b in zip(outputs[name], outputs[reference]))
        share = statistics.mean(_prefix_share(a, b) for a, b in zip(outputs[name], outputs[reference]))
        median = statistics.median(speeds[name])
        rows.append(f"| {name} | {median:.2f} ({min(speeds[name]):.2f}-{max(speeds[name]):.2f}) | {median / base:.2f} | "
                    f"{equal}/{len(prompts)} | {share:.1%} | {medusa_same[name]}/{len(prompts)} |")
    report = "\n".join([
        "# Weight formats of the lean runtime",
        "",
        f"Command: `python benchmarks/weight_formats.py {' '.join(sys.argv[1:])}`",
        "",
        f"Machine: {machine}",
        "",
        f"{len(prompts)} prompts (the first spec-to-rtl problems in the chat template), {args.max_new_tokens} new "
        f"tokens, greedy, {args.repeats} interleaved repeats, torch {torch.__version__} with "
        f"{torch.get_num_threads()} thread(s). float16 runs every pass on fbgemm's float16 kernel "
        f"({'present' if fbgemm_half_available() else 'absent here'}; where it is absent, passes over several "
        "rows run the float32 model with its weights rounded to the same values); int8 runs every pass on its "
        "int8 kernel; int4 keeps the float32 model, rounded to the 4-bit values, for passes over several rows.",
        "",
        *rows,
        "",
    ])
    args.out.write_text(report)
    print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
