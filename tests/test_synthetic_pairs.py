"""Synthetic pairs: every template's Verilog, simulated with iverilog, behaves as its oracle says."""

from __future__ import annotations

import itertools
import json
import random
import subprocess

import pytest

from verifrag.training.corpus.synthetic import FAMILIES, SOURCE, Design, generate
from verifrag.training.corpus.syntax import Verdict, check_module

INSTANCES = 6  # random instances per family: widths, polarities and conventions differ between them
CYCLES = 40


def _vectors(design: Design, rng: random.Random) -> list[dict[str, int]]:
    inputs = design.inputs
    if sum(p.width for p in inputs) <= 8:
        ranges = [range(1 << p.width) for p in inputs]
        return [dict(zip((p.name for p in inputs), values)) for values in itertools.product(*ranges)]
    return [{p.name: rng.randrange(1 << p.width) for p in inputs} for _ in range(64)]


def _cycles(design: Design, rng: random.Random) -> list[dict[str, int]]:
    cycles = []
    for index in range(CYCLES):
        values = {p.name: rng.randrange(1 << p.width) for p in design.inputs}
        if design.reset is not None:
            name, asserted = design.reset
            values[name] = asserted if index == 0 or rng.random() < 0.1 else 1 - asserted
        cycles.append(values)
    return cycles


def _testbench(design: Design, steps: list[dict[str, int]]) -> str:
    declarations = [f"    reg [{p.width - 1}:0] {p.name};" for p in design.inputs]
    declarations += [f"    wire [{p.width - 1}:0] {p.name};" for p in design.outputs]
    if design.clock:
        declarations.append(f"    reg {design.clock} = 0;")
    connections = ", ".join(f".{p.name}({p.name})" for p in design.ports)
    shown = " ".join("%0d" for _ in design.outputs)
    display = f'$display("{shown}", {", ".join(p.name for p in design.outputs)});'
    lines = []
    for values in steps:
        assign = " ".join(f"{name} = {value};" for name, value in values.items())
        if design.clock:
            lines.append(f"        {assign} #5 {design.clock} = 1; #1 {display} #4 {design.clock} = 0;")
        else:
            lines.append(f"        {assign} #1 {display}")
    return ("module tb;\n" + "\n".join(declarations) + f"\n    TopModule dut({connections});\n    initial begin\n"
            + "\n".join(lines) + "\n        $finish;\n    end\nendmodule\n")


def _expected(design: Design, steps: list[dict[str, int]]) -> list[list[int | None]]:
    names = [p.name for p in design.outputs]
    if design.combinational is not None:
        return [[design.combinational(values)[n] for n in names] for values in steps]
    state, rows = design.initial(), []
    for values in steps:
        state = design.step(state, values)
        rows.append([state[n] for n in names])
    return rows


def _simulate(design: Design, bench: str, tmp_path) -> list[list[str]]:
    (tmp_path / "dut.v").write_text(design.module)
    (tmp_path / "tb.v").write_text(bench)
    subprocess.run(["iverilog", "-g2012", "-o", str(tmp_path / "sim"), str(tmp_path / "dut.v"), str(tmp_path / "tb.v")],
                   check=True, capture_output=True, text=True)
    run = subprocess.run(["vvp", "-n", str(tmp_path / "sim")], check=True, capture_output=True, text=True)
    return [line.split() for line in run.stdout.splitlines() if line and not line.startswith(("VCD", "tb.v"))]


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_template_simulates_as_its_oracle_says(family, tmp_path):
    rng = random.Random(family)
    for instance in range(INSTANCES):
        design = FAMILIES[family](rng)
        assert check_module(design.module) is Verdict.OK, design.module
        steps = _vectors(design, rng) if design.combinational is not None else _cycles(design, rng)
        got = _simulate(design, _testbench(design, steps), tmp_path)
        want = _expected(design, steps)
        assert len(got) == len(want), design.module
        for step, (row, expected) in enumerate(zip(got, want)):
            for text, value in zip(row, expected):
                if value is not None:
                    assert text == str(value), f"{family} #{instance}, step {step} {steps[step]}:\n{design.module}"


def test_a_wrong_module_is_caught_by_the_oracle(tmp_path):
    """The harness can fail: a NOR gate written as XOR disagrees with the NOR oracle."""
    rng = random.Random(0)
    design = FAMILIES["gate"](rng)
    while "NOR" not in design.spec or "XNOR" in design.spec:
        design = FAMILIES["gate"](rng)
    broken = Design(design.family, design.spec, design.ports, design.body.replace("~(", "(").replace("|", "^"),
                    combinational=design.combinational)
    steps = _vectors(broken, rng)
    got = _simulate(broken, _testbench(broken, steps), tmp_path)
    assert [row for row in got] != [[str(v) for v in row] for row in _expected(broken, steps)]


def test_generate_is_seeded_distinct_and_carries_provenance():
    first, again = generate(200, seed=5), generate(200, seed=5)
    assert first.records == again.records
    assert len({(r["prompt"], r["answer"]) for r in first.records}) == 200
    assert {r["source"] for r in first.records} == {SOURCE}
    assert all(r["license"] == "MIT" and r["answer"].startswith("module TopModule") for r in first.records)
    assert {r["path"].split("/")[0] for r in first.records} == set(FAMILIES)
    json.dumps(first.records)


def test_train_synth_drops_records_that_copy_a_benchmark_problem(tmp_path, capsys):
    from verifrag.cli import _Parser, train_command

    copied = generate(40, seed=1, families=["gate"]).records[7]
    bench = tmp_path / "bench"
    bench.mkdir()
    (bench / "Prob900_copied_prompt.txt").write_text(copied["prompt"])
    (bench / "Prob900_copied_ref.sv").write_text(copied["answer"])
    out = tmp_path / "synthetic" / "pairs.jsonl"
    parser = _Parser(prog="verifrag train")
    train_command.add_arguments(parser)
    args = parser.parse_args(["synth", "--count", "40", "--seed", "1", "--family", "gate", "--out", str(out),
                              "--benchmarks", str(bench)])
    assert train_command.run(args) == 0
    kept = [json.loads(line) for line in out.read_text().splitlines()]
    assert copied["answer"] not in {r["answer"] for r in kept}
    assert 0 < len(kept) < 40
    assert "benchmark_code" in capsys.readouterr().out
