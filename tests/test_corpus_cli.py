"""`verifrag train data` end to end through the command's parser, as the CLI registry wires it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from verifrag.cli import _Parser
from verifrag.cli import train_command
from verifrag.errors import UserError

SMALL = Path(__file__).parent / "data" / "corpus_small"
KEYS = {"id", "source", "file", "module", "instruction", "input", "output", "text"}


def _train(argv: list[str]) -> int:
    parser = _Parser(prog="verifrag train")
    train_command.add_arguments(parser)
    return train_command.run(parser.parse_args(argv))


def test_train_data_writes_the_documented_layout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "corpus"
    assert _train(["data", "--dir", str(SMALL), "--out", str(out), "--heldout-fraction", "0.5", "--no-progress"]) == 0
    assert {p.name for p in out.iterdir()} == {"train.jsonl", "heldout.jsonl", "pairs.jsonl", "pairs_heldout.jsonl",
                                               "stats.json", "run.json"}
    records = [json.loads(line) for name in ("train.jsonl", "heldout.jsonl") for line in (out / name).read_text().splitlines()]
    assert len(records) == 4 and all(KEYS <= set(r) for r in records)
    alu = next(r for r in records if r["module"] == "alu")
    assert alu["id"] == "corpus_small/core/alu.v::alu" and alu["source"] == "corpus_small"
    assert alu["text"].startswith("// A four-function ALU") and alu["output"].startswith("module alu")
    stats = json.loads((out / "stats.json").read_text())
    total = {key: sum(split[key] for split in stats["splits"].values()) for key in ("modules", "tokens", "frag_hidden")}
    assert total["modules"] == 4 and total["tokens"] > total["frag_hidden"] > 0
    printed = capsys.readouterr().out
    assert "near_duplicate 1" in printed and "wrote" in printed


def test_train_data_without_inputs_or_with_a_missing_package_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no input"):
        _train(["data", "--out", str(tmp_path)])
    with pytest.raises(UserError, match="not installed"):
        _train(["data", "--package", "pythondata-cpu-does-not-exist", "--out", str(tmp_path), "--no-token-stats"])
    with pytest.raises(UserError, match="not a directory"):
        _train(["data", "--dir", str(tmp_path / "missing"), "--out", str(tmp_path), "--no-token-stats"])


def test_train_without_a_step_is_a_user_error() -> None:
    with pytest.raises(UserError, match="choose a step"):
        _train([])
