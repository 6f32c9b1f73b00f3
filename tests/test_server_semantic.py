"""Semantic diagnostics off the server process, and include directories, against the real server.

A 50,000-operand expression segfaults pyslang's elaboration: the server must live on, still publish
parse diagnostics, say why the semantic check is missing, and elaborate again in a fresh worker.
Relative `includeDirs` resolve against the workspace root; a missing one costs one warning, not the
diagnostics."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_server_support import BROKEN, RawServer

OPTIONS = {"features": {"inlineCompletion": False, "completion": False, "moduleGeneration": False}, "debounceMs": 0}
LONG_EXPRESSION = "module long_xor(input a, output y);\nassign y = " + "^".join(["a"] * 50_000) + ";\nendmodule\n"
UNKNOWN_MODULE = "module top(input a, output y);\n  missing_module u(.a(a), .y(y));\nendmodule\n"


@pytest.fixture
def server():
    raw = RawServer()
    yield raw
    raw.stop()


def test_elaboration_crash_leaves_the_server_serving(server):
    assert len(LONG_EXPRESSION.encode()) > 100_000
    server.initialize(OPTIONS)
    server.open("file:///work/long.v", LONG_EXPRESSION)
    note = server.diagnostics("file:///work/long.v", lambda d: any(x.get("code") == "SemanticCheckFailed" for x in d))
    assert "crashed" in note[-1]["message"]
    server.open("file:///work/broken.v", BROKEN)
    found = server.diagnostics("file:///work/broken.v", lambda d: len(d) > 0)
    assert found[0]["range"]["start"]["line"] == 1
    # a fresh worker elaborates the next round: an unknown module is a semantic error, not a parse error
    server.open("file:///work/top.v", UNKNOWN_MODULE)
    server.diagnostics("file:///work/top.v", lambda d: any("missing_module" in x["message"] for x in d))
    assert server.close() == 0


def test_include_dirs_resolve_against_the_root_and_missing_ones_warn_once(server, tmp_path: Path):
    (tmp_path / "inc").mkdir()
    (tmp_path / "inc" / "defs.vh").write_text("`define WIDTH 4\n")
    text = '`include "defs.vh"\nmodule NAME(input [`WIDTH-1:0] a, output y);\n  assign y = &a;\nendmodule\n'
    server.send({"id": "init", "method": "initialize",
                 "params": {"processId": None, "rootUri": tmp_path.as_uri(), "capabilities": {},
                            "initializationOptions": {**OPTIONS, "includeDirs": ["rtl/include", "inc"]}}})
    server.answer("init")
    server.send({"method": "initialized", "params": {}})
    for name in ("a", "b"):
        uri = (tmp_path / f"{name}.v").as_uri()
        server.open(uri, text.replace("NAME", name))
        # semantic diagnostics arrive (the include resolved: no error at all)
        server.wait_for(lambda m: m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri
                        and not m["params"]["diagnostics"] and m["params"].get("version") == 1)
    warnings = [m for m in server.messages if m.get("method") == "window/showMessage"]
    assert len(warnings) == 1 and "rtl/include" in warnings[0]["params"]["message"]
    assert server.close() == 0
