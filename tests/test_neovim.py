"""End-to-end with Neovim's own LSP client (`vim.lsp.start_client`, Neovim 0.7+): a file with an error
gets its diagnostic, and textDocument/completion (Neovim before 0.11 has no inline completion) lists
identifiers in scope."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.test_server_support import SERVER, build_tiny_checkpoint

SCRIPT = Path(__file__).resolve().parent.parent / "editors" / "neovim" / "verifrag_e2e.lua"
SOURCE = "module top(input clk, input clear, output y);\n  wire count;\n  assign y = clk &;\n  assign y = c\nendmodule\n"


@pytest.mark.skipif(shutil.which("nvim") is None, reason="Neovim (nvim) is not installed; apt-get install neovim")
def test_neovim_client_gets_diagnostics_and_completion(tmp_path):
    checkpoint = build_tiny_checkpoint(tmp_path / "model")
    source = tmp_path / "top.v"
    source.write_text(SOURCE)
    out = tmp_path / "report.json"
    env = dict(os.environ, VERIFRAG_CMD=json.dumps(SERVER), VERIFRAG_OUT=str(out), VERIFRAG_FILE=str(source),
               VERIFRAG_OPTIONS=json.dumps({"checkpoint": str(checkpoint), "debounceMs": 0}))
    done = subprocess.run(["nvim", "--headless", "-u", "NONE", "-i", "NONE", "-n", "-c", f"luafile {SCRIPT}"],
                          env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert out.is_file(), done.stderr + done.stdout
    report = json.loads(out.read_text())
    assert any(d["line"] == 2 for d in report["diagnostics"]), report
    labels = set(report["items"])
    assert {"clk", "clear", "count", "top"} <= labels, report
