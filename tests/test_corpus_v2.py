"""Corpus v2 filters on tiny hand-made data: licences, decontamination, exact dedup, mined and AutoVCoder pairs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from verifrag.training.corpus.decontam import BenchmarkIndex
from verifrag.training.corpus.licenses import UNKNOWN, allowed, classify_text, license_of, spdx_of
from verifrag.training.corpus.pairs import MineVerdict, behaviour_spec
from verifrag.training.corpus.pipeline import CorpusConfig, build_corpus
from verifrag.training.corpus.sources import SourceRoot

MIT = "MIT License\n\nPermission is hereby granted, free of charge, to any person obtaining a copy ..."
GPL = "GNU GENERAL PUBLIC LICENSE\nVersion 3, 29 June 2007\n..."
SHL = "SOLDERPAD HARDWARE LICENSE version 0.51\n\nThis license is based closely on the Apache License ..."

# An evaluation problem: a 4-bit up counter with a synchronous active-high reset and an enable.
BENCH_REF = """module RefModule (
  input clk,
  input reset,
  input ena,
  output reg [3:0] q
);
  always @(posedge clk)
    if (reset) q <= 4'd0;
    else if (ena) q <= (q == 4'd9) ? 4'd0 : q + 4'd1;
endmodule
"""
BENCH_PROMPT = """I would like you to implement a module named TopModule with the following interface.
 - input clk
 - input reset
 - input ena
 - output q (4 bits)
Build a decade counter that counts from 0 through 9 inclusive when ena is high, with a period of 10.
The reset input is synchronous, and should reset the counter to 0.
"""
# The same solution reformatted, renamed and commented: still a copy.
COPIED_CODE = """// A small counter.
module my_decade(input clk, input reset, input ena, output reg [3:0] q);
  // count
  always @(posedge clk) if (reset) q <= 4'd0; else if (ena) q <= (q == 4'd9) ? 4'd0 : q + 4'd1;
endmodule
"""
CLEAN = """// Computes the parity of the input bus and drives it on p when enabled.
module parity8(input [7:0] d, input en, output p);
  assign p = en & ^d;
endmodule
"""


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _benchmarks(root: Path, boilerplate_problems: int = 0) -> Path:
    directory = root / "bench"
    _write(directory / "Prob050_count10_ref.sv", BENCH_REF)
    _write(directory / "Prob050_count10_prompt.txt", BENCH_PROMPT)
    for number in range(boilerplate_problems):  # problems that share nothing but the set's boilerplate
        _write(directory / f"Prob{100 + number}_other{number}_prompt.txt",
               f"I would like you to implement a module named TopModule with the following interface. "
               f"Problem {number} asks for {'something ' * (number + 1)}different.")
    return directory


def test_licence_texts_and_spdx_lines_are_recognised() -> None:
    assert classify_text(MIT) == "MIT"
    assert classify_text(GPL) == "GPL"
    assert classify_text(SHL) == "SHL-0.51"
    assert classify_text("Copyright Lattice Semiconductor Corporation. All rights reserved.") != "MIT"
    assert classify_text("no licence here") == UNKNOWN
    assert spdx_of("// SPDX-License-Identifier: Apache-2.0 WITH SHL-2.1\nmodule m; endmodule") == "Apache-2.0"
    assert spdx_of("module m; endmodule") is None
    assert allowed("MIT") and allowed("CERN-OHL-W-2.0") and not allowed("GPL") and not allowed(UNKNOWN)


def test_the_nearest_licence_file_wins_and_an_spdx_line_beats_it(tmp_path: Path) -> None:
    _write(tmp_path / "LICENSE", MIT)
    _write(tmp_path / "vendor" / "gpl" / "COPYING", GPL)
    assert license_of(tmp_path, "rtl/a.v", "module a; endmodule") == "MIT"
    assert license_of(tmp_path, "vendor/gpl/deep/b.v", "module b; endmodule") == "GPL"
    assert license_of(tmp_path, "vendor/gpl/c.v", "// SPDX-License-Identifier: ISC\nmodule c; endmodule") == "ISC"
    bare = tmp_path / "bare"
    bare.mkdir()
    assert license_of(bare, "x.v", "module x; endmodule") == UNKNOWN


def test_decontamination_catches_copied_code_and_copied_problem_text(tmp_path: Path) -> None:
    index = BenchmarkIndex.from_dirs([_benchmarks(tmp_path)])
    assert index.code_overlap(COPIED_CODE) == "Prob050_count10"
    assert index.code_overlap(CLEAN) is None
    copied_text = ("Design a decade counter that counts from 0 through 9 inclusive when ena is high, "
                   "with a period of 10.")
    assert index.text_overlap(copied_text) == "Prob050_count10"
    assert index.text_overlap("Computes the parity of the input bus and drives it on p when enabled.") is None


def test_decontamination_ignores_the_benchmark_sets_boilerplate(tmp_path: Path) -> None:
    index = BenchmarkIndex.from_dirs([_benchmarks(tmp_path, boilerplate_problems=6)])
    boilerplate = "I would like you to implement a module named TopModule with the following interface."
    assert index.text_overlap(boilerplate) is None
    # With fewer problems sharing it than the cut-off, the same sentence is evidence again.
    assert BenchmarkIndex.from_dirs([_benchmarks(tmp_path / "few", boilerplate_problems=2)]).text_overlap(boilerplate)


@pytest.mark.parametrize(("comment", "verdict"), [
    ("// Computes the parity of the input bus and drives it on p when enabled.", MineVerdict.KEPT),
    ("/* Description: a FIFO that stores 16 words and asserts full when no slot is free.\n"
     " * Engineer: someone */", MineVerdict.KEPT),
    ("", MineVerdict.NO_COMMENT),
    ("// Module: parity8", MineVerdict.TOO_SHORT),
    ("// Author: Jane Doe\n// Copyright 2020 Acme", MineVerdict.NO_COMMENT),
    ("// Part of the Acme SoC project, revision seven, third release candidate", MineVerdict.NOT_BEHAVIOURAL),
])
def test_only_comments_that_describe_behaviour_become_specs(comment: str, verdict: MineVerdict) -> None:
    spec, found = behaviour_spec(comment)
    assert found is verdict
    assert (spec is not None) == (verdict is MineVerdict.KEPT)


def test_description_field_is_the_spec_and_other_fields_are_cut() -> None:
    spec, _ = behaviour_spec("// Description: a FIFO that stores 16 words and asserts full when no slot is free.\n"
                             "// Engineer: someone")
    assert spec == "a FIFO that stores 16 words and asserts full when no slot is free."


def _package(tmp_path: Path) -> SourceRoot:
    root = tmp_path / "pkg"
    _write(root / "LICENSE", MIT)
    _write(root / "rtl" / "parity.v", CLEAN)
    _write(root / "rtl" / "parity_again.v", "// Same code, other comment.\n" + CLEAN.split("\n", 1)[1])
    _write(root / "rtl" / "count.v", COPIED_CODE)
    _write(root / "gpl" / "COPYING", GPL)
    _write(root / "gpl" / "inv.v", "// Inverts a.\nmodule inv(input a, output y); assign y = ~a; endmodule\n")
    return SourceRoot("pythondata-test", root, license_required=True)


def _autovcoder(tmp_path: Path) -> Path:
    records = [
        {"id": "avc-0001", "problem": "Design a 2-to-1 multiplexer selecting a when s is low and b otherwise.",
         "reference": "module mux2(input a, input b, input s, output y);\n  assign y = s ? b : a;\nendmodule",
         "compiles": True},
        {"id": "avc-0002", "problem": "Design an adder.", "reference": "module broken(", "compiles": False},
        {"id": "avc-0003", "problem": "Build a decade counter that counts from 0 through 9 inclusive when ena is "
                                      "high, with a period of 10.",
         "reference": "module c(input clk, output reg q); always @(posedge clk) q <= ~q; endmodule",
         "compiles": True},
        {"id": "avc-0004", "problem": "Parity of a byte, gated by an enable, as a module.",
         "reference": CLEAN.split("\n", 1)[1], "compiles": True},
    ]
    return _write(tmp_path / "problems.jsonl", "".join(json.dumps(r) + "\n" for r in records))


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_pipeline_applies_licence_decontamination_exact_dedup_and_writes_pairs(tmp_path: Path) -> None:
    config = CorpusConfig(roots=(_package(tmp_path),), out=tmp_path / "out", heldout_fraction=0.0, progress=False,
                          benchmarks=(_benchmarks(tmp_path),), autovcoder=_autovcoder(tmp_path))
    report = build_corpus(config)
    stages = {s["stage"]: s for s in report["stages"]}
    assert stages["license"]["dropped"] == {"license_GPL": 1}
    assert stages["decontam"]["dropped"] == {"benchmark_code": 1}
    assert stages["dedup"]["dropped"] == {"exact_duplicate": 1}
    assert stages["autovcoder"]["dropped"] == {"benchmark_text": 1, "exact_duplicate": 1, "not_compiling": 1}
    (record,) = _lines(tmp_path / "out" / "train.jsonl")
    assert (record["module"], record["license"]) == ("parity8", "MIT")
    pairs = _lines(tmp_path / "out" / "pairs.jsonl")
    assert pairs == [
        {"prompt": "Computes the parity of the input bus and drives it on p when enabled.",
         "answer": CLEAN.split("\n", 1)[1].strip(), "source": "pythondata-test", "path": "rtl/parity.v",
         "license": "MIT"},
        {"prompt": "Design a 2-to-1 multiplexer selecting a when s is low and b otherwise.",
         "answer": "module mux2(input a, input b, input s, output y);\n  assign y = s ? b : a;\nendmodule",
         "source": "autovcoder", "path": "avc-0001", "license": "MIT"},
    ]
    assert report["sources"]["pythondata-test"]["license:GPL"] == 1


def test_pairs_from_heldout_files_go_to_the_heldout_pairs(tmp_path: Path) -> None:
    config = CorpusConfig(roots=(_package(tmp_path),), out=tmp_path / "out", heldout_fraction=0.999999,
                          progress=False)
    build_corpus(config)
    assert _lines(tmp_path / "out" / "pairs.jsonl") == []
    assert [p["path"] for p in _lines(tmp_path / "out" / "pairs_heldout.jsonl")] == ["rtl/parity.v"]
