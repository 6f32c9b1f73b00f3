"""Checks of the environment a VeriFrag user needs, each with the fix when it fails.

`verifrag doctor` (and `make doctor`) print one line per check. A check is `required` when the main
commands cannot work without it; Neovim and node only matter for the editor integrations and tests.
Every check runs in this process or a short subprocess and never loads the model itself.
"""

from __future__ import annotations

import importlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent
MIN_PYTHON = (3, 10)
MIN_IVERILOG = 11
MIN_NVIM = (0, 7)
MIN_NODE = 18


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True

    def line(self) -> str:
        mark = "ok  " if self.ok else ("FAIL" if self.required else "warn")
        return f"{mark} {self.name}: {self.detail}" + ("" if self.ok else f" -> fix: {self.fix}")


def _search_path() -> str:
    """PATH with the running interpreter's bin folder first: tools installed into the venv (install.sh
    puts node there when the system has none) count even when the venv is not activated."""
    return os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])


def _command_output(argv: list[str]) -> str | None:
    """First line of `argv`'s output, or None when it cannot run."""
    path = _search_path()
    if shutil.which(argv[0], path=path) is None:
        return None
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                              env={**os.environ, "PATH": path})
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0] if lines else ""


def _numbers(text: str) -> tuple[int, ...]:
    found = re.search(r"(\d+)\.(\d+)", text)
    return (int(found.group(1)), int(found.group(2))) if found else (0, 0)


def python_version() -> Check:
    version = ".".join(map(str, sys.version_info[:3]))
    return Check("python", sys.version_info[:2] >= MIN_PYTHON, f"{version} at {sys.executable}",
                 "install Python 3.10 or newer (Debian 12: apt-get install python3 python3-venv)")


def virtual_environment() -> Check:
    if sys.prefix == sys.base_prefix:
        return Check("venv", False, "not running in a virtual environment",
                     "run `make install`, then `source .venv/bin/activate`")
    where = Path(sys.prefix)
    own = where == CHECKOUT / ".venv"
    return Check("venv", True, f"{where}" + (" (the checkout's .venv)" if own else ""))


def torch_build() -> Check:
    try:
        torch = importlib.import_module("torch")
    except Exception as exc:  # a broken install raises more than ImportError
        return Check("torch", False, f"cannot import torch ({type(exc).__name__}: {exc})", "bash scripts/install.sh")
    cuda = torch.version.cuda
    build = f"CUDA {cuda}, GPU {'visible' if torch.cuda.is_available() else 'not visible'}" if cuda else "CPU build"
    return Check("torch", True, f"{torch.__version__} ({build}), {torch.get_num_threads()} threads")


def iverilog_version() -> Check:
    line = _command_output(["iverilog", "-V"])
    if line is None:
        return Check("iverilog", False, "not found", "sudo apt-get install iverilog")
    major = _numbers(line)[0]
    return Check("iverilog", major >= MIN_IVERILOG, line, f"iverilog {MIN_IVERILOG} or newer: sudo apt-get install iverilog")


def isolation() -> Check:
    from verifrag.simulation.isolation import available_mode

    mode = available_mode()
    fixes = "sudo apt-get install bubblewrap (and allow unprivileged user namespaces)"
    if mode == "bwrap":
        return Check("isolation", True, "bubblewrap starts: simulations run in a private read-only filesystem view")
    if mode == "unshare":
        return Check("isolation", False, "only unshare starts (no private filesystem view)", fixes, required=False)
    return Check("isolation", False, "neither bubblewrap nor unshare starts: simulations rely on screening alone", fixes)


def pyslang_version() -> Check:
    try:
        pyslang = importlib.import_module("pyslang")
    except Exception as exc:
        return Check("pyslang", False, f"cannot import pyslang ({exc})", "bash scripts/install.sh")
    return Check("pyslang", True, str(getattr(pyslang, "__version__", "installed")))


def default_model() -> Check:
    from verifrag.errors import UserError
    from verifrag.model.checkpoint_config import DEFAULT_CHECKPOINT, check_checkpoint

    try:
        config = check_checkpoint(DEFAULT_CHECKPOINT)
        from verifrag.model.base import default_gguf_path

        gguf = default_gguf_path()
    except UserError as exc:
        return Check("default model", False, str(exc), "bash scripts/install.sh")
    except Exception as exc:
        return Check("default model", False, f"cannot look for it ({type(exc).__name__}: {exc})", "bash scripts/install.sh")
    size = gguf.stat().st_size / 2**20
    return Check("default model", True, f"{gguf.name} ({size:.0f} MiB), {config.num_heads} Medusa heads")


def neovim() -> Check:
    line = _command_output(["nvim", "--version"])
    fix = "sudo apt-get install neovim (only for the Neovim guide and its test)"
    if line is None:
        return Check("neovim", False, "not found", fix, required=False)
    return Check("neovim", _numbers(line) >= MIN_NVIM, line, f"Neovim {'.'.join(map(str, MIN_NVIM))}+: {fix}",
                 required=False)


def node() -> Check:
    line = _command_output(["node", "--version"])
    fix = "bash scripts/install.sh --test (only for the VS Code extension and its tests)"
    if line is None:
        return Check("node", False, "not found", fix, required=False)
    npm = _command_output(["npm", "--version"])
    detail = f"node {line}" + (f", npm {npm}" if npm else ", npm not found")
    return Check("node", _numbers(line)[0] >= MIN_NODE and npm is not None, detail, fix, required=False)


CHECKS: tuple[Callable[[], Check], ...] = (
    python_version, virtual_environment, torch_build, iverilog_version, isolation, pyslang_version,
    default_model, neovim, node,
)


def run_checks() -> list[Check]:
    """Every check, in order; a check that crashes is reported as failed, not raised."""
    results = []
    for check in CHECKS:
        try:
            results.append(check())
        except Exception as exc:
            results.append(Check(check.__name__, False, f"check crashed: {type(exc).__name__}: {exc}",
                                 "report this as a bug"))
    return results

