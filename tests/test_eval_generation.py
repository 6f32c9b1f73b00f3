"""`verifrag eval` generation: samples are saved as they finish, a rerun generates only what is missing
(sample i is seeded with i, so it reproduces the lost ones exactly), and worker processes produce the
same samples as one process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from verifrag.cli import main

BENCH = Path(__file__).resolve().parents[1] / ".." / "shared" / "benchmarks" / "verilog-eval-v2" / "dataset_spec-to-rtl"


def _generate(checkpoint: Path, output: Path, workers: int, limit: int = 2) -> list[dict]:
    code = main(["eval", "--problems", str(BENCH), "--limit", str(limit), "--checkpoint", str(checkpoint),
                 "--decoder", "medusa", "--n", "2", "--temperature", "0.8", "--max-new-tokens", "16",
                 "--gen-workers", str(workers), "--generate-only", "--output", str(output)])
    assert code == 0
    return [json.loads(line) for line in Path(f"{output}.samples.jsonl").read_text().splitlines()]


@pytest.mark.skipif(not BENCH.is_dir(), reason="VerilogEval v2 not present")
def test_generation_resumes_and_workers_agree(tiny_checkpoint, tmp_path, capsys) -> None:
    first = _generate(tiny_checkpoint, tmp_path / "one", workers=1)
    assert [(s["task_id"], s["index"]) for s in first] == [
        ("Prob001_zero", 0), ("Prob001_zero", 1), ("Prob002_m2014_q4i", 0), ("Prob002_m2014_q4i", 1)]
    assert len({s["completion"] for s in first}) > 1  # sampled, not one text repeated

    saved = tmp_path / "one.samples.jsonl"
    lines = saved.read_text().splitlines()
    # Lose one sample and leave a torn line behind, as a killed run would.
    saved.write_text("\n".join(lines[:1] + lines[2:]) + '\n{"task_id": "Prob00')
    capsys.readouterr()
    assert _generate(tiny_checkpoint, tmp_path / "one", workers=1) == first
    assert "reusing 3 samples" in capsys.readouterr().err

    assert _generate(tiny_checkpoint, tmp_path / "two", workers=2) == first
    # A narrower rerun keeps the samples of the problems it leaves out.
    assert _generate(tiny_checkpoint, tmp_path / "two", workers=1, limit=1) == first


@pytest.mark.skipif(not BENCH.is_dir(), reason="VerilogEval v2 not present")
def test_generate_only_needs_an_output(tiny_checkpoint, capsys) -> None:
    code = main(["eval", "--problems", str(BENCH), "--checkpoint", str(tiny_checkpoint), "--generate-only"])
    assert code == 1
    assert "--generate-only needs --checkpoint and --output" in capsys.readouterr().err
