"""`verifrag --help`, `--version`, a subcommand's `--help` and argument errors must not load torch,
transformers or pyslang: importing them is what made every command take 5-20 s to say anything
(benchmarks/cli_startup.md). Each case runs in a fresh interpreter and reports the heavy modules it saw."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("torch", "transformers", "pyslang", "pygls", "datasketch")

PROBE = """
import contextlib, io, json, sys
from verifrag.cli import main
out, err = io.StringIO(), io.StringIO()
with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
    try:
        code = main(sys.argv[1:])
    except SystemExit as exc:
        code = exc.code
print(json.dumps({"code": code, "out": out.getvalue(), "err": err.getvalue(),
                  "heavy": [m for m in %r if m in sys.modules]}))
""" % (HEAVY,)


def probe(*args: str) -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


@pytest.mark.parametrize("args", [
    ["--help"], ["--version"], ["generate", "--help"], ["eval", "--help"], ["verify", "--help"],
    ["bench", "--help"], ["serve", "--help"], ["doctor", "--help"], ["train", "--help"],
    ["train", "sft", "--help"], ["train", "medusa", "--help"], ["train", "data", "--help"],
    ["train", "distill", "--help"], ["train", "salv", "--help"], ["train", "synth", "--help"],
], ids=" ".join)
def test_help_and_version_load_nothing_heavy(args):
    result = probe(*args)
    assert result["code"] == 0
    assert "verifrag" in result["out"]
    assert result["heavy"] == []


@pytest.mark.parametrize("args, message", [
    (["generate", "--prompt-file", "/nonexistent/prompt.v"], "cannot read prompt file"),
    (["generate", "--prompt", "x", "--checkpoint", "/nonexistent/ckpt"], "does not exist"),
    (["generate", "--prompt", "x", "--max-new-tokens", "0"], "at least 1"),
    (["eval", "--problems", "/nonexistent", "--samples", "s.jsonl"], "problems folder not found"),
    (["verify", "--reference", "/nonexistent/r.v", "--candidate", "/nonexistent/c.v"], "reference file not found"),
], ids=lambda value: value if isinstance(value, str) else " ".join(value[:2]))
def test_argument_errors_answer_before_heavy_imports(args, message):
    result = probe(*args)
    assert result["code"] == 1
    assert message in result["err"] and len(result["err"].strip().splitlines()) == 1
    assert result["heavy"] == []


def test_unknown_flag_after_a_subcommand_names_the_subcommand():
    result = probe("generate", "--prompt", "x", "--bogus")
    assert result["code"] == 2
    assert result["err"].startswith("verifrag generate: error: unrecognized arguments: --bogus")
    assert result["heavy"] == []
