"""`verifrag doctor` prints one line per check, says how to fix what fails, and exits non-zero only when
something the main commands need is missing."""

from __future__ import annotations

import subprocess
import sys

from verifrag.doctor import iverilog_version, node, run_checks, virtual_environment

NAMES = ("python", "venv", "torch", "iverilog", "isolation", "pyslang", "default model", "neovim", "node")


def test_doctor_reports_every_check_on_its_own_line():
    done = subprocess.run([sys.executable, "-m", "verifrag", "doctor"], capture_output=True, text=True)
    lines = done.stdout.strip().splitlines()
    assert [line.split(":")[0].split(maxsplit=1)[1] for line in lines[:-1]] == list(NAMES)
    failing = [line for line in lines[:-1] if line.startswith("FAIL")]
    assert all("-> fix: " in line for line in failing)
    assert done.returncode == (1 if failing else 0)
    assert lines[-1].startswith("doctor: ")


def test_missing_tools_fail_with_their_fix(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on PATH but the interpreter's own folder
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    check = iverilog_version()
    assert not check.ok and check.required
    assert check.line() == "FAIL iverilog: not found -> fix: sudo apt-get install iverilog"
    editor = node()
    assert not editor.ok and not editor.required and editor.line().startswith("warn node: not found -> fix: ")


def test_tools_in_the_venv_count_without_activation(monkeypatch, tmp_path):
    fake = tmp_path / "node"
    fake.write_text("#!/bin/sh\necho v20.1.0\n")
    fake.chmod(0o755)
    (tmp_path / "npm").write_text("#!/bin/sh\necho 10.0.0\n")
    (tmp_path / "npm").chmod(0o755)
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    assert node().ok and node().detail == "node v20.1.0, npm 10.0.0"


def test_outside_a_venv_says_how_to_get_one(monkeypatch):
    monkeypatch.setattr(sys, "prefix", sys.base_prefix)
    check = virtual_environment()
    assert not check.ok and "source .venv/bin/activate" in check.fix


def test_a_crashing_check_is_reported_not_raised(monkeypatch):
    import verifrag.doctor as doctor

    def broken():
        raise RuntimeError("boom")

    monkeypatch.setattr(doctor, "CHECKS", (broken,))
    (result,) = run_checks()
    assert not result.ok and "boom" in result.detail
