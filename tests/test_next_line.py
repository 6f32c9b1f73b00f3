"""Next-line completion metric (RTL-Repo): cuts, prediction extraction, scores, resume, CLI on a tiny model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from verifrag.evaluation.next_line import (Source, code_lines, edit_similarity, exact_match, first_code_line,
                                           make_task, read_sources, run_next_line, summarize)

FILE = """// header comment
/* block comment
   still comment */
module m(input a, output y);

  assign y = ~a; // inverted
  /* c */ wire w;
endmodule
"""


def test_code_lines_skip_blanks_line_and_block_comments() -> None:
    assert code_lines(FILE.splitlines()) == [False, False, False, True, False, True, True, True]


def test_the_cut_is_a_seeded_code_line_after_the_first() -> None:
    source = Source("f.v", FILE)
    first = make_task(source, seed=0)
    assert first == make_task(source, seed=0)
    assert first is not None and first.target in {"module m(input a, output y);", "  assign y = ~a; // inverted",
                                                   "  /* c */ wire w;", "endmodule"}
    assert FILE.startswith(first.prefix + first.target)
    targets = {make_task(source, seed).target for seed in range(40)}
    assert len(targets) == 4  # every code line can be chosen, and nothing else
    assert make_task(Source("c.v", "// only\n// comments\n"), 0) is None


def test_prediction_is_the_first_code_line_of_the_completion() -> None:
    assert first_code_line("\n  // note\n  assign y = a;\n  assign z = b;\n") == "  assign y = a;"
    assert first_code_line("/* a\n b */\n") == ""


def test_exact_match_splits_on_whitespace_and_similarity_is_the_levenshtein_ratio() -> None:
    assert exact_match("assign  y =  a;", "assign y = a;")
    assert not exact_match("assign y = b;", "assign y = a;")
    assert edit_similarity("abc", "abd") == pytest.approx(100 * (1 - 2 / 6))
    assert edit_similarity("same", "same") == 100.0
    assert edit_similarity("", "xyz") == 0.0
    assert summarize([]) == {"files": 0, "exact_match": 0.0, "edit_similarity": 0.0}


def test_sources_from_a_directory_or_a_corpus_jsonl(tmp_path: Path) -> None:
    (tmp_path / "rtl").mkdir()
    (tmp_path / "rtl" / "b.sv").write_text(FILE)
    (tmp_path / "a.v").write_text(FILE)
    (tmp_path / "notes.txt").write_text("not verilog")
    assert [s.id for s in read_sources(tmp_path)] == ["a.v", "rtl/b.sv"]
    corpus = tmp_path / "heldout.jsonl"
    corpus.write_text(json.dumps({"id": "z", "text": FILE}) + "\n" + json.dumps({"id": "y", "text": FILE}) + "\n")
    assert [s.id for s in read_sources(corpus)] == ["y", "z"]


def test_a_tiny_model_run_resumes_from_its_output(tiny_checkpoint: Path, tmp_path: Path) -> None:
    from verifrag.model.engine import Engine

    engine = Engine.load(tiny_checkpoint)
    tasks = [make_task(Source(f"f{i}.v", FILE), seed=i) for i in range(3)]
    output = tmp_path / "lines.jsonl"
    first = list(run_next_line(engine, tasks[:2], "ntp", output))
    assert [r.id for r in first] == ["f0.v", "f1.v"]
    assert all(r.target == t.target for r, t in zip(first, tasks))
    again = list(run_next_line(engine, tasks, "ntp", output))
    assert again[:2] == first
    assert [json.loads(line)["id"] for line in output.read_text().splitlines()] == ["f0.v", "f1.v", "f2.v"]


def test_eval_next_line_command_reports_scores_and_perplexity(tiny_checkpoint: Path, tmp_path: Path, capsys) -> None:
    from verifrag.cli import main

    (tmp_path / "a.v").write_text(FILE)
    (tmp_path / "b.v").write_text(FILE.replace("~a", "a"))
    code = main(["eval", "--next-line", str(tmp_path), "--checkpoint", str(tiny_checkpoint), "--decoder", "ntp",
                 "--limit", "1", "--perplexity", "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["next_line"]["files"] == 1
    assert 0 <= report["next_line"]["edit_similarity"] <= 100
    assert report["perplexity"]["tokens"] > 0 and report["perplexity"]["perplexity"] > 1


def test_eval_without_problems_or_next_line_is_a_one_line_error(capsys) -> None:
    from verifrag.cli import main

    assert main(["eval", "--checkpoint", "x"]) != 0
    assert "--next-line" in capsys.readouterr().err
