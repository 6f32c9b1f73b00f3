"""Stand-in SALV corpus for benchmarks/salv_round.md while the corpus pipeline has not produced data/.

Writes train/heldout JSONL in the corpus schema ({"id","source","file","module","instruction","input",
"output","text"}) from small, self-contained, verifiable modules of the installed pythondata CPU
packages (the corpus pipeline's own sources), never from VerilogEval. The instruction is the module's
header comment when it has one, else a sentence naming the module and its ports.

    python benchmarks/salv_round.py --out /tmp/salv_corpus --max-chars 1200 --count 40
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from verifrag.simulation.interface import read_interface
from verifrag.training.corpus_modules import split_modules
from verifrag.training.corpus_sources import installed_packages, iter_files, package_root
from verifrag.training.salv_tasks import _usable


def _instruction(unit, interface) -> str:
    comment = " ".join(line.strip("/* \t") for line in unit.header_comment.splitlines()).strip()
    ports = ", ".join(f"{p.direction} {p.name}" + (f" [{p.width - 1}:0]" if p.width > 1 else "")
                      for p in interface.ports)
    lead = comment if len(comment) > 20 else f"Write the Verilog module {unit.name}."
    return f"{lead}\nModule {unit.name} has ports: {ports}."


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--max-chars", type=int, default=1200)
    parser.add_argument("--count", type=int, default=40)
    args = parser.parse_args()
    records, seen = [], set()
    for file in iter_files(package_root(name) for name in installed_packages()):
        for unit in split_modules(file):
            if not unit.complete or unit.includes or unit.macros or len(unit.code) > args.max_chars:
                continue
            if unit.code in seen or not _usable(unit.code, unit.name):
                continue
            seen.add(unit.code)
            interface = read_interface(unit.code, unit.name)
            records.append({"id": f"{unit.source}:{unit.name}", "source": unit.source, "file": unit.file,
                            "module": unit.name, "instruction": _instruction(unit, interface), "input": "",
                            "output": unit.code, "text": unit.text})
    random.Random(0).shuffle(records)
    records.sort(key=lambda r: len(r["output"]))
    half = records[: args.count]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in half[0::2]))
    (out / "heldout.jsonl").write_text("".join(json.dumps(r) + "\n" for r in half[1::2]))
    print(f"{len(records)} usable modules; wrote {len(half[0::2])} train, {len(half[1::2])} held-out to {out}")


if __name__ == "__main__":
    main()
