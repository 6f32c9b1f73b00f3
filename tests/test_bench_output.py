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


def test_llama_cpp_peers_are_skipped_with_a_note_when_not_installed(tiny_checkpoint, tmp_path, monkeypatch, capsys):
    if not BENCH.is_dir():
        pytest.skip("VerilogEval v2 is not in ../shared/benchmarks")
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "llama_cpp" else real_find_spec(name, *a))
    monkeypatch.chdir(tmp_path)
    code = main(["bench", "--checkpoint", str(tiny_checkpoint), "--problems", str(BENCH), "--limit", "1",
                 "--max-new-tokens", "4", "--methods", "ntp,llama_cpp", "--repeats", "1", "--device", "cpu"])
    out, err = capsys.readouterr()
    assert code == 0
    assert "llama_cpp skipped: llama-cpp-python is not installed" in err
    assert "VeriFrag next-token" in out and "llama.cpp" not in out


@pytest.mark.slow
def test_llama_cpp_runner_decodes_the_default_gguf():
    pytest.importorskip("llama_cpp")
    from verifrag.evaluation.llama_cpp_peer import llama_cpp_runner
    from verifrag.model.base import default_gguf_path

    run = llama_cpp_runner(default_gguf_path(), max_new_tokens=6, threads=1, lookup=False)
    first = run("module counter(input clk, output reg [3:0] q);\n")
    assert 0 < first.tokens <= 6 and first.seconds > 0
    assert run("module counter(input clk, output reg [3:0] q);\n").tokens == first.tokens  # greedy, cold each time
