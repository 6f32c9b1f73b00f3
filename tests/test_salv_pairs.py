"""SALV pair construction on hand-made verification results."""

from __future__ import annotations

from verifrag.simulation.verification import SignalVerdict, VerificationResult
from verifrag.training.salv.pairs import ExtractionClock, Rollout, contrasted_signals, pairs_for_task, rollout_stats

HEADER = "module m(input a, input b, output y, output z);\n"
Y_RIGHT, Y_WRONG = "  assign y = a & b;\n", "  assign y = a | b;\n"
Z_RIGHT, Z_WRONG = "  assign z = a ^ b;\n", "  assign z = a;\n"


def _ok(y: bool, z: bool) -> VerificationResult:
    return VerificationResult("ok", signals={"y": SignalVerdict(0 if y else 3, 10), "z": SignalVerdict(0 if z else 5, 10)})


def _text(y: str, z: str) -> str:
    return HEADER + y + z + "endmodule\n"


def _code(text: str, spans: list[list[int]]) -> str:
    return "".join(text[a:b] for a, b in spans)


SAMPLES = [
    Rollout(0, _text(Y_RIGHT, Z_WRONG), _ok(True, False)),
    Rollout(1, _text(Y_WRONG, Z_RIGHT), _ok(False, True)),
    Rollout(2, "this is not verilog", VerificationResult("compile_error", "syntax error")),
    Rollout(3, _text(Y_RIGHT, Z_RIGHT), _ok(True, True)),
]


def _pairs() -> dict[str, dict]:
    return {p["pair_id"]: p for p in pairs_for_task("t", "m", "// spec\n", SAMPLES)}


def test_contrasted_signals_rule():
    assert contrasted_signals(_ok(True, False), _ok(False, True)) == {"y"}
    assert contrasted_signals(_ok(True, True), VerificationResult("timeout")) == {"y", "z"}
    assert contrasted_signals(VerificationResult("compile_error"), _ok(False, False)) == set()
    assert contrasted_signals(_ok(True, True), _ok(True, True)) == set()


def test_every_ordered_pair_with_a_contrast_and_no_other():
    pairs = _pairs()
    assert set(pairs) == {"t:0>1", "t:1>0", "t:0>2", "t:1>2", "t:3>0", "t:3>1", "t:3>2"}
    assert pairs["t:0>1"]["signals"] == ["y"] and pairs["t:1>0"]["signals"] == ["z"]
    assert pairs["t:3>2"]["signals"] == ["y", "z"] and pairs["t:3>2"]["rejected_status"] == "compile_error"


def test_spans_hold_the_contrasted_signal_code_only():
    pair = _pairs()["t:0>1"]
    chosen = _code(pair["chosen"], pair["chosen_spans"])
    rejected = _code(pair["rejected"], pair["rejected_spans"])
    assert Y_RIGHT in chosen and Z_WRONG not in chosen and HEADER in chosen
    assert Y_WRONG in rejected and Z_RIGHT not in rejected


def test_unanalysable_rejected_sample_is_taken_whole():
    pair = _pairs()["t:0>2"]
    assert pair["rejected_spans"] == [[0, len("this is not verilog")]]


def test_stats_count_compiles_signals_and_pairs():
    clock = ExtractionClock()
    pairs = pairs_for_task("t", "m", "", SAMPLES, clock)
    stats = rollout_stats([s.result for s in SAMPLES], 1, pairs, [0.5, 0.5, 0.5, 0.5], clock)
    assert stats["compiled"] == 3 and stats["signal_verdicts"] == 6 and stats["signals_correct"] == 4
    assert stats["all_correct"] == 1 and stats["pairs"] == 7 and stats["pairs_with_failed_rejected"] == 3
    assert clock.calls > 0 and stats["rejected_whole_sample_fallbacks"] == 3
