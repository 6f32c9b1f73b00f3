"""pass@k estimator against hand-computed values, and the judge's failure kinds."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from verifrag.evaluation.passk import pass_at_k

BENCH = Path(__file__).resolve().parents[1] / ".." / "shared" / "benchmarks" / "verilog-eval-v2" / "dataset_spec-to-rtl"


def test_pass_at_k_hand_values() -> None:
    assert pass_at_k(10, 0, 1) == 0.0
    assert pass_at_k(10, 10, 5) == 1.0
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)
    # 1 - C(7,5)/C(10,5) = 1 - 21/252
    assert pass_at_k(10, 3, 5) == pytest.approx(1 - 21 / 252)
    # 1 - C(18,10)/C(20,10) = 1 - 43758/184756
    assert pass_at_k(20, 2, 10) == pytest.approx(1 - 43758 / 184756)
    assert pass_at_k(5, 1, 5) == 1.0


def test_pass_at_k_matches_binomials_and_stays_finite_for_large_n() -> None:
    for n, c, k in [(50, 7, 10), (100, 1, 1), (30, 29, 2)]:
        exact = 1 - math.comb(n - c, k) / math.comb(n, k)
        assert pass_at_k(n, c, k) == pytest.approx(exact)
    assert 0.0 < pass_at_k(2000, 3, 100) < 1.0


def test_pass_at_k_rejects_impossible_counts() -> None:
    with pytest.raises(ValueError):
        pass_at_k(3, 4, 1)
    with pytest.raises(ValueError):
        pass_at_k(3, 1, 4)


@pytest.mark.skipif(not BENCH.is_dir(), reason=f"VerilogEval v2 data not found at {BENCH}")
def test_failure_kinds_and_resume(tmp_path) -> None:
    from verifrag.evaluation.problems import load_problems
    from verifrag.evaluation.runner import evaluate
    from verifrag.simulation.sandbox import Limits

    problems = {k: v for k, v in load_problems(BENCH).items() if k == "Prob001_zero"}
    good = "module TopModule(output zero); assign zero = 1'b0; endmodule\n"
    samples = [
        ("Prob001_zero", good),
        ("Prob001_zero", "module TopModule(output zero); assign zero = 1'b1; endmodule\n"),
        ("Prob001_zero", "module TopModule(output zero); assign zero = ; endmodule\n"),
        ("Prob001_zero", 'module TopModule(output zero); initial $system("ls"); assign zero = 0; endmodule\n'),
        ("Prob001_zero", "module TopModule(output zero); initial while (1) ; assign zero = 0; endmodule\n"),
        ("Prob999_unknown", good),
    ]
    cache = tmp_path / "results.jsonl"
    report = evaluate(problems, samples, ks=(1, 5), workers=2, cache_path=cache, limits=Limits(run_seconds=3)).to_json()
    kinds = [j["failures"] for j in report["per_problem"].values()][0]
    assert kinds == {"mismatch": 1, "compile": 1, "refused": 1, "timeout": 1}
    assert report["pass_at"] == {"1": pytest.approx(0.2), "5": 1.0}
    assert report["syntax_valid"] == pytest.approx(4 / 5)
    assert report["unknown_tasks"] == ["Prob999_unknown"]
    assert len(cache.read_text().splitlines()) == 5
    again = evaluate(problems, samples, ks=(1,), cache_path=cache).to_json()
    assert again["pass_at"] == {"1": pytest.approx(0.2)}
    assert len(cache.read_text().splitlines()) == 5
    assert json.loads(cache.read_text().splitlines()[0])["task_id"] == "Prob001_zero"
