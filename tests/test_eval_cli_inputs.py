"""`verifrag eval --samples`: bad samples files are one-line errors that say what is wrong, plain output
names the failure kinds, and the judgement cache goes under runs/, never beside the user's samples."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from verifrag.cli import main

BENCH = Path(__file__).resolve().parents[1] / ".." / "shared" / "benchmarks" / "verilog-eval-v2" / "dataset_spec-to-rtl"
ZERO_OK = "module TopModule(output zero);\n  assign zero = 1'b0;\nendmodule\n"
ZERO_WRONG = "module TopModule(output zero);\n  assign zero = 1'b1;\nendmodule\n"


@pytest.fixture
def problems(tmp_path: Path) -> Path:
    """A one-problem VerilogEval folder (Prob001_zero) copied from the shared benchmark."""
    if not (BENCH / "Prob001_zero_ref.sv").is_file():
        pytest.skip("VerilogEval v2 is not in ../shared/benchmarks")
    folder = tmp_path / "problems"
    folder.mkdir()
    for path in BENCH.glob("Prob001_zero_*"):
        shutil.copy(path, folder / path.name)
    return folder


def write_lines(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def eval_error(args: list[str], capsys) -> str:
    code = main(["eval", *args])
    err = capsys.readouterr().err
    assert code == 1
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    return err


def test_lone_surrogate_is_a_clear_error(problems, tmp_path, capsys):
    samples = write_lines(tmp_path / "s.jsonl", [
        json.dumps({"task_id": "Prob001_zero", "completion": ZERO_OK}).encode(),
        b'{"task_id": "Prob001_zero", "completion": "module TopModule(); \\ud800 endmodule"}',
    ])
    err = eval_error(["--problems", str(problems), "--samples", str(samples)], capsys)
    assert "s.jsonl:2: completion holds a lone surrogate" in err


def test_bytes_that_are_not_utf8_are_a_clear_error(problems, tmp_path, capsys):
    samples = write_lines(tmp_path / "s.jsonl", [b'{"task_id": "Prob001_zero", "completion": "\xff\xfe"}'])
    err = eval_error(["--problems", str(problems), "--samples", str(samples)], capsys)
    assert "s.jsonl:1: not UTF-8 (byte 0xff at column 44)" in err


def test_empty_samples_file_says_it_is_empty(problems, tmp_path, capsys):
    samples = write_lines(tmp_path / "s.jsonl", [b""])
    err = eval_error(["--problems", str(problems), "--samples", str(samples)], capsys)
    assert "holds no samples" in err


def test_samples_for_other_problems_name_the_mismatch(problems, tmp_path, capsys):
    samples = write_lines(tmp_path / "s.jsonl", [json.dumps({"task_id": "zero", "completion": ZERO_OK}).encode()])
    err = eval_error(["--problems", str(problems), "--samples", str(samples)], capsys)
    assert "none of the 1 samples" in err and "'zero'" in err and "'Prob001_zero'" in err


def test_cache_goes_under_runs_and_no_cache_leaves_none(problems, tmp_path, capsys, monkeypatch):
    if shutil.which("iverilog") is None:
        pytest.skip("iverilog is not installed")
    data = tmp_path / "data"
    data.mkdir()
    samples = write_lines(data / "s.jsonl", [json.dumps({"task_id": "Prob001_zero", "completion": c}).encode()
                                             for c in (ZERO_OK, ZERO_WRONG)])
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert main(["eval", "--problems", str(problems), "--samples", str(samples), "--workers", "1"]) == 0
    out, err = capsys.readouterr()
    assert "pass@1: 0.5000" in out and "failures: mismatch 1" in out
    assert sorted(p.name for p in data.iterdir()) == ["s.jsonl"]  # nothing written beside the samples
    (cache,) = (work / "runs" / "eval").iterdir()
    assert cache.name.startswith("s-") and f"cached in runs/eval/{cache.name}" in err
    assert len(cache.read_text().splitlines()) == 2
    shutil.rmtree(work / "runs")
    assert main(["eval", "--problems", str(problems), "--samples", str(samples), "--workers", "1", "--no-cache"]) == 0
    assert not (work / "runs").exists()
