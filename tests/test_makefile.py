"""`make test` runs the extension tests even when pytest fails, and still exits non-zero; `make doctor`
without a venv says how to make one. The suites are swapped for stand-ins through make variables."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def suites(tmp_path: Path, python: str, extension: str) -> tuple[int, bool, str]:
    marker = tmp_path / "extension-ran"
    done = subprocess.run(
        ["make", "--no-print-directory", "-C", str(REPO), "test-suites", f"PYTEST={python}",
         f"EXTENSION_TEST=touch {marker} && {extension}"],
        capture_output=True, text=True)
    return done.returncode, marker.exists(), done.stdout


@pytest.mark.parametrize("python, extension, ok", [
    ("false", "true", False), ("true", "false", False), ("false", "false", False), ("true", "true", True),
])
def test_extension_tests_run_whatever_pytest_says(tmp_path, python, extension, ok):
    code, extension_ran, out = suites(tmp_path, python, extension)
    assert extension_ran
    assert (code == 0) == ok
    assert f"python tests exit {0 if python == 'true' else 1}, extension tests exit {0 if extension == 'true' else 1}" in out


def test_doctor_without_a_venv_says_how_to_make_one(tmp_path):
    done = subprocess.run(["make", "--no-print-directory", "-C", str(REPO), "doctor", f"VENV={tmp_path}"],
                          capture_output=True, text=True)
    assert done.returncode != 0
    assert "-> fix: make install" in done.stdout
