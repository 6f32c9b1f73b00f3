"""Corpus stages one by one on small hand-made inputs (tests/data/corpus_small)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from verifrag.syntax.fragments import fragments
from verifrag.training.corpus.dedup import DedupConfig, NearDuplicateFilter, shingles
from verifrag.training.corpus.modules import split_modules
from verifrag.training.corpus.pipeline import CorpusConfig, build_corpus
from verifrag.training.corpus.records import describe, instruction_for
from verifrag.training.corpus.sources import SourceFile, directory_root, iter_files
from verifrag.training.corpus.split import HELDOUT, TRAIN, split_of
from verifrag.training.corpus.syntax import Verdict, check_module

SMALL = Path(__file__).parent / "data" / "corpus_small"


def _file(text: str, path: str = "f.v", spec: str | None = None) -> SourceFile:
    return SourceFile("test", path, text, spec)


def _units(path: str):
    text = (SMALL / path).read_text()
    return list(split_modules(_file(text, path)))


def test_split_finds_each_module_with_its_header_comment_but_not_the_licence() -> None:
    alu, dreg = _units("core/alu.v")
    assert (alu.name, dreg.name) == ("alu", "dreg")
    assert alu.header_comment == "// A four-function ALU: add, subtract, and, or, selected by op."
    assert alu.text.startswith("// A four-function ALU") and alu.text.endswith("endmodule")
    assert alu.code.startswith("module alu #(parameter W = 8)") and alu.code.endswith("endmodule")
    assert alu.interface.endswith("output reg [W-1:0] y\n);")
    assert alu.complete and alu.body_tokens > 20
    assert dreg.header_comment == "// A register with synchronous reset and enable."


def test_split_records_include_and_macro_context_and_truncation() -> None:
    (macro,) = _units("other/uses_macro.v")
    assert macro.includes == ("defs.vh",) and macro.macros == ("WIDTH",)
    (cut,) = _units("other/truncated.v")
    assert not cut.complete
    (empty,) = _units("other/empty.v")
    assert empty.complete and empty.body_tokens == 0
    assert _units("other/comments_only.v") == []


def test_split_handles_multibyte_text_offsets() -> None:
    text = "// Zähler für Bytes\nmodule z (output y); assign y = 1'b0; endmodule\n"
    (unit,) = split_modules(_file(text))
    assert unit.header_comment == "// Zähler für Bytes"
    assert unit.code == "module z (output y); assign y = 1'b0; endmodule"


def test_syntax_check_separates_macro_errors_from_syntax_errors() -> None:
    assert check_module(_units("core/counter.v")[0].code) is Verdict.OK
    assert check_module(_units("other/broken.v")[0].code) is Verdict.SYNTAX_ERROR
    assert check_module(_units("other/uses_macro.v")[0].code) is Verdict.MACRO_OR_INCLUDE


def _tokens(code: str) -> list[str]:
    return [f.text for f in fragments(code)]


def test_dedup_drops_a_near_duplicate_and_keeps_distinct_modules() -> None:
    alu, dreg = _units("core/alu.v")
    (copy,) = _units("core/alu_copy.v")
    (counter,) = _units("core/counter.v")
    index = NearDuplicateFilter(DedupConfig())
    assert index.admit(_tokens(alu.code))
    assert index.admit(_tokens(dreg.code))
    assert not index.admit(_tokens(copy.code))  # renamed module, same body
    assert index.admit(_tokens(counter.code))
    assert not index.admit(_tokens(counter.code.replace("\n", "  \n")))  # formatting only


def test_shingles_of_short_and_long_token_lists() -> None:
    assert shingles(["a", "b"], 5) == {b"a\x1fb"}
    assert len(shingles(list("abcdefg"), 5)) == 3


def test_instruction_from_header_comment_spec_or_name() -> None:
    alu = _units("core/alu.v")[0]
    assert instruction_for(alu) == (
        "Write a Verilog module named `alu`. A four-function ALU: add, subtract, and, or, selected by op."
    )
    (counter,) = [f for f in iter_files([directory_root(str(SMALL / "core"))]) if f.path == "counter.v"]
    assert counter.spec == "A 4-bit up counter with synchronous active-high reset."
    unit = next(split_modules(counter))
    assert instruction_for(unit).startswith("A 4-bit up counter")
    assert describe("/* Copyright 2020 X\n * ---\n * Does things. */") == "Does things."


def test_split_by_file_is_stable_and_near_the_requested_fraction() -> None:
    paths = [f"dir{i % 7}/file{i}.v" for i in range(2000)]
    first = [split_of("src", p, 3, 0.2) for p in paths]
    assert first == [split_of("src", p, 3, 0.2) for p in paths]
    assert 0.17 < first.count(HELDOUT) / len(paths) < 0.23
    assert first != [split_of("src", p, 4, 0.2) for p in paths]
    assert all(split_of("src", p, 3, 0.0) == TRAIN for p in paths)


def _run(out: Path, seed: int = 0) -> dict:
    config = CorpusConfig(roots=(directory_root(str(SMALL)),), out=out, seed=seed, heldout_fraction=0.5, progress=False)
    return build_corpus(config)


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_pipeline_counts_every_drop_and_keeps_the_valid_modules(tmp_path: Path) -> None:
    report = _run(tmp_path)
    stages = {s["stage"]: s for s in report["stages"]}
    assert [s["stage"] for s in report["stages"]] == ["read", "license", "split", "structure", "syntax", "decontam",
                                                      "dedup", "write", "pairs", "autovcoder"]
    assert stages["read"]["out"] == 9
    assert stages["split"]["dropped"] == {"files_without_modules": 1}
    assert stages["structure"]["dropped"] == {"truncated": 1, "empty_or_comment_only": 1}
    assert stages["syntax"]["dropped"] == {"macro_or_include": 1, "syntax_error": 1}
    assert stages["dedup"]["dropped"] == {"near_duplicate": 1}
    records = _records(tmp_path / "train.jsonl") + _records(tmp_path / "heldout.jsonl")
    assert sorted(r["module"] for r in records) == ["alu", "counter", "dreg", "mux2"]
    assert stages["write"]["out"] == 4


def test_no_file_contributes_to_both_splits(tmp_path: Path) -> None:
    _run(tmp_path)
    train = {r["file"] for r in _records(tmp_path / "train.jsonl")}
    heldout = {r["file"] for r in _records(tmp_path / "heldout.jsonl")}
    assert train and heldout and not train & heldout


def test_two_runs_with_one_seed_write_identical_files(tmp_path: Path) -> None:
    _run(tmp_path / "a", seed=7)
    _run(tmp_path / "b", seed=7)
    for name in ("train.jsonl", "heldout.jsonl", "pairs.jsonl", "pairs_heldout.jsonl", "stats.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_heldout_fraction_out_of_range_is_refused(tmp_path: Path) -> None:
    config = CorpusConfig(roots=(directory_root(str(SMALL)),), out=tmp_path, heldout_fraction=1.0, progress=False)
    with pytest.raises(ValueError):
        build_corpus(config)
