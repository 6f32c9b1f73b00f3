"""Run iverilog and vvp on untrusted sources inside a throw-away directory with hard limits.

Why each limit exists:
- wall-clock time: a combinational loop or an `always` block without a delay
  makes vvp spin forever at one simulation time;
- address space (RLIMIT_AS): a huge memory declaration can exhaust the host;
- output: stdout is redirected to a file in the sandbox and only
  `output_bytes` of it are read back (more is reported as `output_limit`);
  every file a process writes, stdout and the `wave.vcd` VerilogEval
  testbenches dump included, is capped at `file_bytes` by RLIMIT_FSIZE, so
  an endless `$display` loop is killed by SIGXFSZ instead of filling the disk
  (the largest VerilogEval reference dump is about 9.5 MB);
- no core dumps, a fresh process group (so a timeout kills iverilog's
  preprocessor and compiler children too) and a minimal environment.

Screening the sources for file and system tasks happens before this module is
called (see `screening`); this module only contains what runs.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_COMPILE_FLAGS: tuple[str, ...] = ("-Wall", "-Winfloop", "-Wno-timescale", "-g2012")


@dataclass(frozen=True)
class Limits:
    """Resource limits applied to both the compiler and the simulator."""

    compile_seconds: float = 30.0
    run_seconds: float = 20.0
    memory_bytes: int = 2 * 1024**3
    output_bytes: int = 4 * 1024**2
    file_bytes: int = 64 * 1024**2


@dataclass
class SimulationResult:
    """What happened: `status` is one of ok, compile_error, timeout, output_limit, runtime_error."""

    status: str
    compile_log: str = ""
    output: str = ""
    returncode: int | None = None
    seconds: float = 0.0
    details: dict[str, str] = field(default_factory=dict)

    @property
    def compiled(self) -> bool:
        """True when iverilog accepted the sources (the run may still have failed)."""
        return self.status != "compile_error"


def _limit_child(limits: Limits):
    """Build the preexec_fn that applies `limits` in the child before exec."""

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


def _run_limited(argv: list[str], cwd: Path, seconds: float, limits: Limits, log: Path) -> tuple[int | None, bool]:
    """Run `argv` with stdout+stderr into `log`; return (returncode, timed_out)."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C", "HOME": str(cwd)}
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            preexec_fn=_limit_child(limits),
            start_new_session=True,
        )
        try:
            return proc.wait(timeout=seconds), False
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return None, True


def _read_capped(path: Path, limit: int) -> str:
    """Read at most `limit` bytes of a log as text (the process may have been cut off mid-line)."""
    with open(path, "rb") as handle:
        return handle.read(limit).decode("utf-8", errors="replace")


def simulate(
    sources: dict[str, str],
    top: str,
    *,
    limits: Limits = Limits(),
    compile_flags: tuple[str, ...] = DEFAULT_COMPILE_FLAGS,
) -> SimulationResult:
    """Compile `sources` (file name -> text, in command-line order) with top `top` and run them.

    File names are written inside a fresh temporary directory, which is removed
    afterwards; they must be plain names, not paths.
    """
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="verifrag-sim-") as tmp:
        work = Path(tmp)
        names = []
        for name, text in sources.items():
            if Path(name).name != name:
                raise ValueError(f"source names must be plain file names, got {name!r}")
            (work / name).write_text(text)
            names.append(name)
        compile_log = work / "compile.log"
        argv = ["iverilog", *compile_flags, "-s", top, "-o", "sim.vvp", *names]
        code, timed_out = _run_limited(argv, work, limits.compile_seconds, limits, compile_log)
        log_text = _read_capped(compile_log, limits.output_bytes)
        if timed_out:
            return SimulationResult("timeout", log_text, seconds=time.monotonic() - start,
                                    details={"phase": "compile"})
        if code != 0 or not (work / "sim.vvp").exists():
            return SimulationResult("compile_error", log_text, returncode=code, seconds=time.monotonic() - start)
        run_log = work / "run.log"
        code, timed_out = _run_limited(["vvp", "-n", "sim.vvp"], work, limits.run_seconds, limits, run_log)
        output = _read_capped(run_log, limits.output_bytes)
        elapsed = time.monotonic() - start
        if timed_out:
            return SimulationResult("timeout", log_text, output, seconds=elapsed, details={"phase": "run"})
        if code == -signal.SIGXFSZ or run_log.stat().st_size > limits.output_bytes:
            return SimulationResult("output_limit", log_text, output, code, elapsed)
        if code != 0:
            return SimulationResult("runtime_error", log_text, output, code, elapsed)
        return SimulationResult("ok", log_text, output, code, elapsed)
