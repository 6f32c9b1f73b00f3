"""Wrap the simulator's command line in OS isolation: bubblewrap, else unshare, else nothing (loudly).

Screening (see `screening`) is the first line of defence; this is the second,
for whatever screening misses.  Under bubblewrap the simulator sees:

- a read-only `/usr` (and the `/bin`, `/lib*`, `/sbin` links or folders that
  point into it), a private `/dev` and `/proc`, an empty `/tmp`, and the
  sample's own work folder mounted read-write at `/sim`; nothing else of the
  host exists, so `/etc`, `/root`, `/home` and the checkout cannot be read;
- fresh network, IPC, PID, UTS and cgroup namespaces (no network at all);
- no capabilities (`--cap-drop ALL`: bubblewrap keeps them when started by
  root, which is how containers and CI run it), no new privileges (bubblewrap
  sets `PR_SET_NO_NEW_PRIVS`), a new session (no terminal injection), and
  death with its parent.

Where bubblewrap cannot start (no binary, user namespaces refused), `unshare`
from util-linux gives the namespaces without the private filesystem view:
no network, and, when we are root, the simulator runs as `nobody` so the
host's files are not writable.  Where neither starts, one loud warning is
printed and the run goes on with screening and resource limits only.
`Limits(isolate=False)` (`--no-isolation`) turns the isolation off on purpose.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

SANDBOX_DIR = "/sim"
"""Where the sample's work folder appears inside bubblewrap."""

_NOBODY = "65534"
_warned: set[str] = set()


def _host_view() -> list[str]:
    """bwrap arguments that show the simulator `/usr` and the links into it, read-only."""
    args = ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        path = Path(top)
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), top]
        elif path.is_dir():
            args += ["--ro-bind", top, top]
    for tool in ("iverilog", "vvp"):
        found = shutil.which(tool)
        if found and not Path(found).resolve().is_relative_to("/usr"):
            prefix = str(Path(found).resolve().parents[1])
            args += ["--ro-bind", prefix, prefix]
    return args


def bwrap_argv(work: Path) -> list[str]:
    """The bubblewrap prefix that runs a command in `work` (seen as /sim) and nothing else writable."""
    return [
        "bwrap", *_host_view(),
        "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
        "--bind", str(work), SANDBOX_DIR, "--chdir", SANDBOX_DIR,
        "--unshare-all", "--cap-drop", "ALL", "--new-session", "--die-with-parent",
        "--clearenv", "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "LANG", "C",
        "--setenv", "HOME", SANDBOX_DIR, "--setenv", "TMPDIR", SANDBOX_DIR,
        "--",
    ]


def unshare_argv() -> list[str]:
    """The util-linux fallback: no network, own PID/IPC/UTS namespaces, `nobody` when we are root."""
    argv = ["unshare", "--net", "--ipc", "--uts", "--pid", "--fork", "--kill-child", "--mount"]
    if os.geteuid() == 0:
        argv += ["--setuid", _NOBODY, "--setgid", _NOBODY]
    return argv + ["--"]


def _starts(argv: list[str], cwd: Path) -> bool:
    try:
        done = subprocess.run([*argv, "true"], cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


@cache
def available_mode() -> str:
    """The strongest isolation that starts here: "bwrap", "unshare" or "none" (probed once per process)."""
    probe = Path(os.environ.get("TMPDIR", "/tmp"))
    if shutil.which("bwrap") and _starts(bwrap_argv(probe), probe):
        return "bwrap"
    if shutil.which("unshare") and _starts(unshare_argv(), probe):
        return "unshare"
    return "none"


def warn_once(key: str, message: str) -> None:
    """Print `message` to stderr the first time `key` is seen in this process."""
    if key not in _warned:
        _warned.add(key)
        print(f"verifrag: WARNING: {message}", file=sys.stderr, flush=True)


def mode(isolate: bool) -> str:
    """The isolation to use now, warning once when it is weaker than bubblewrap."""
    if not isolate:
        warn_once("off", "simulation isolation is OFF (--no-isolation): untrusted Verilog runs with screening "
                         "and resource limits only")
        return "none"
    found = available_mode()
    if found == "unshare":
        warn_once("unshare", "bubblewrap cannot start here; simulating under unshare (no network, no private "
                             "filesystem view). Install the Debian package bubblewrap.")
    elif found == "none":
        warn_once("none", "NO simulation isolation can start here (neither bubblewrap nor unshare): untrusted "
                          "Verilog runs with screening and resource limits only")
    return found


def wrap(argv: list[str], work: Path, chosen: str) -> list[str]:
    """`argv` prefixed for `chosen` isolation; file names in `argv` are relative to `work`."""
    if chosen == "bwrap":
        return [*bwrap_argv(work), *argv]
    if chosen == "unshare":
        return [*unshare_argv(), *argv]
    return argv
