"""`verifrag bench` without --out writes a new run folder under runs/, never over the committed
benchmarks/results (it once overwrote speed.md and its plots)."""

from __future__ import annotations

from pathlib import Path

import pytest

from verifrag.cli import main

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / ".." / "shared" / "benchmarks" / "verilog-eval-v2" / "dataset_spec-to-rtl"


def test_bench_defaults_to_a_run_folder(tiny_checkpoint, tmp_path, monkeypatch, capsys):
    if not BENCH.is_dir():
        pytest.skip("VerilogEval v2 is not in ../shared/benchmarks")
    committed = {p: p.stat().st_mtime_ns for p in (REPO / "benchmarks" / "results").glob("*")}
    monkeypatch.chdir(tmp_path)
    code = main(["bench", "--checkpoint", str(tiny_checkpoint), "--problems", str(BENCH), "--limit", "1",
                 "--max-new-tokens", "4", "--methods", "ntp", "--repeats", "1", "--device", "cpu"])
    assert code == 0
    (run,) = (tmp_path / "runs").iterdir()
    assert run.name.startswith("bench-") and (run / "speed.md").is_file()
    assert f"report and plots in runs/{run.name}" in capsys.readouterr().err
    assert {p: p.stat().st_mtime_ns for p in (REPO / "benchmarks" / "results").glob("*")} == committed
