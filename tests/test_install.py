"""The README's first command, `make quickstart`, works from a fresh copy of the checkout with Debian's
own Python (/usr/bin/python3, "externally managed": pip refuses to install into it): scripts/install.sh
makes the copy's own .venv, installs into it, and the quickstart ends by saying set-up works.

Slow (a full install, from pip's cache when warm, and one generation), so marked `slow`; it still runs
in `make test`. Skipped where there is no system Python with venv support to start from."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SYSTEM_PYTHON = Path("/usr/bin/python3")


def _has_venv(python: Path) -> bool:
    if not python.is_file():
        return False
    return subprocess.run([str(python), "-c", "import ensurepip, venv"], capture_output=True).returncode == 0


def copy_checkout(target: Path) -> None:
    """The working tree without ignored files: a fresh clone, plus any edits not yet committed."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, check=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


@pytest.mark.slow
@pytest.mark.skipif(not _has_venv(SYSTEM_PYTHON), reason="no system python3 with venv support")
@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_quickstart_from_a_fresh_copy_with_the_system_python(tmp_path):
    checkout = tmp_path / "verifrag"
    copy_checkout(checkout)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env.update(VERIFRAG_PYTHON=str(SYSTEM_PYTHON), OMP_NUM_THREADS="1",
               PATH=os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(sys.prefix)))
    try:
        done = subprocess.run(["make", "--no-print-directory", "quickstart"], cwd=checkout, env=env,
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-3000:]
        venv_python = checkout / ".venv" / "bin" / "python"
        version = subprocess.run([str(venv_python), "-c", "import sys; print(sys.base_prefix, sys.prefix)"],
                                 capture_output=True, text=True, check=True).stdout.split()
        assert version == ["/usr", str(checkout / ".venv")]  # made from Debian's Python, in the copy
        assert done.stdout.strip().splitlines()[-1].startswith("quickstart: set-up works: ")
        assert (checkout / "runs" / "quickstart.json").is_file()
    finally:
        shutil.rmtree(checkout / ".venv", ignore_errors=True)
