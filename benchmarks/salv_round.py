"""Stand-in SALV corpus for benchmarks/salv_round.md while the corpus pipeline has not produced data/.

Writes train/heldout JSONL in the corpus schema ({"id","source","file","module","instruction","input",
"output","text"}) from small, self-contained, verifiable modules of the installed pythondata CPU
packages (the corpus pipeline's own sources), never from VerilogEval. The instruction is the module's
header comment when it has one, else a sentence naming the module and its ports.

    python benchmarks/salv_round.py corpus --out /tmp/salv_corpus --max-chars 1200 --count 40

`handwritten` writes a rollouts.jsonl of hand-made candidates (the reference and mutants that get one
output wrong, or do not compile) for the corpus tasks with two outputs, so the pairs and DPO stages can be
measured on the real model when its own samples give no pairs:

    python benchmarks/salv_round.py handwritten --data /tmp/salv_corpus/train.jsonl --work /tmp/salv_round/hand
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from verifrag.simulation.interface import read_interface
from verifrag.training.corpus.modules import split_modules
from verifrag.training.corpus.sources import installed_packages, iter_files, package_root
from verifrag.training.salv.tasks import _usable


def _instruction(unit, interface) -> str:
    comment = " ".join(line.strip("/* \t") for line in unit.header_comment.splitlines()).strip()
    ports = ", ".join(f"{p.direction} {p.name}" + (f" [{p.width - 1}:0]" if p.width > 1 else "")
                      for p in interface.ports)
    lead = comment if len(comment) > 20 else f"Write the Verilog module {unit.name}."
    return f"{lead}\nModule {unit.name} has ports: {ports}."


# (reference substring, replacement) per output: each mutant breaks exactly one output.
MUTANTS = {
    "A1DATA <= memory[A1ADDR];": "A1DATA <= memory[A2ADDR];",
    "A2DATA <= memory[A2ADDR];": "A2DATA <= memory[A1ADDR];",
    "assign rdata1 = regs[~raddr1[4:0]];": "assign rdata1 = regs[raddr1[4:0]];",
    "assign rdata2 = regs[~raddr2[4:0]];": "assign rdata2 = regs[raddr1[4:0]];",
}


def handwritten(data: Path, work: Path) -> None:
    """Reference + one mutant per output it has in MUTANTS + a non-compiling copy, as rollouts."""
    from transformers import AutoTokenizer

    from verifrag.model.checkpoint import DEFAULT_CHECKPOINT
    from verifrag.model.prompting import module_prompt
    from verifrag.training.salv.jsonl import write_jsonl
    from verifrag.training.salv.tasks import read_tasks

    tokenizer = AutoTokenizer.from_pretrained(DEFAULT_CHECKPOINT, local_files_only=True)
    records = []
    for task in read_tasks(data)[0]:
        mutants = [task.reference.replace(old, new) for old, new in MUTANTS.items() if old in task.reference]
        if len(mutants) < 2:
            continue
        prompt, start = module_prompt(task.spec, tokenizer, task.module)
        broken = task.reference.replace(";", "", 1)
        for index, text in enumerate([task.reference, *mutants, broken]):
            records.append({"task_id": task.task_id, "index": index, "module": task.module,
                            "prompt": prompt[: len(prompt) - len(start)], "completion": text,
                            "reference": task.reference})
    write_jsonl(work / "rollouts.jsonl", records)
    print(f"wrote {len(records)} hand-made samples to {work / 'rollouts.jsonl'}")


def corpus(out: Path, max_chars: int, count: int) -> None:
    records, seen = [], set()
    for file in iter_files(package_root(name) for name in installed_packages()):
        for unit in split_modules(file):
            if not unit.complete or unit.includes or unit.macros or len(unit.code) > max_chars:
                continue
            if unit.code in seen or not _usable(unit.code, unit.name):
                continue
            seen.add(unit.code)
            interface = read_interface(unit.code, unit.name)
            records.append({"id": f"{unit.source}:{unit.file}:{unit.name}", "source": unit.source, "file": unit.file,
                            "module": unit.name, "instruction": _instruction(unit, interface), "input": "",
                            "output": unit.code, "text": unit.text})
    random.Random(0).shuffle(records)
    records.sort(key=lambda r: len(r["output"]))
    half = records[:count]
    out.mkdir(parents=True, exist_ok=True)
    (out / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in half[0::2]))
    (out / "heldout.jsonl").write_text("".join(json.dumps(r) + "\n" for r in half[1::2]))
    print(f"{len(records)} usable modules; wrote {len(half[0::2])} train, {len(half[1::2])} held-out to {out}")


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="mode", required=True)
    make = sub.add_parser("corpus")
    make.add_argument("--out", required=True, type=Path)
    make.add_argument("--max-chars", type=int, default=1200)
    make.add_argument("--count", type=int, default=40)
    hand = sub.add_parser("handwritten")
    hand.add_argument("--data", required=True, type=Path)
    hand.add_argument("--work", required=True, type=Path)
    args = parser.parse_args()
    if args.mode == "corpus":
        corpus(args.out, args.max_chars, args.count)
    else:
        handwritten(args.data, args.work)


if __name__ == "__main__":
    main()
