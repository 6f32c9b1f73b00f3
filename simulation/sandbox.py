"""Run iverilog and vvp on untrusted sources in a throw-away directory, isolated and with hard limits.

Why each limit exists:
- CPU time (RLIMIT_CPU): a combinational loop or an `always` block without a
  delay makes vvp spin forever at one simulation time.  The limit counts CPU
  seconds, not wall-clock seconds, so a correct design on a busy machine is
  not cut off (issue 14: Prob144_conwaylife timed out on a loaded 2-core
  machine and passed alone).  A wall-clock backstop of
  `max(10 x limit, limit + 120 s)` only catches a process that waits without
  computing;
- address space (RLIMIT_AS): a huge memory declaration can exhaust the host;
  the simulator then dies with `std::bad_alloc`, reported as `memory_limit`;
- output: stdout is redirected to a file in the sandbox and only
  `output_bytes` of it are read back (more is reported as `output_limit`);
  every file a process writes, stdout and the `wave.vcd` VerilogEval
  testbenches dump included, is capped at `file_bytes` by RLIMIT_FSIZE, so
  an endless `$display` loop is killed by SIGXFSZ instead of filling the disk
  (the largest VerilogEval reference dump is about 9.5 MB);
- no core dumps, a fresh process group (so a timeout kills iverilog's
  preprocessor and compiler children too) and a minimal environment.

The processes run inside OS isolation (see `isolation`).  Screening the
sources happens before this module is called (see `screening`).
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

from verifrag.simulation import isolation

DEFAULT_COMPILE_FLAGS: tuple[str, ...] = ("-Wall", "-Winfloop", "-Wno-timescale", "-g2012")
_NOBODY = 65534


@dataclass(frozen=True)
class Limits:
    """Resource limits applied to the preprocessor, the compiler and the simulator.

    `compile_seconds` and `run_seconds` are CPU seconds.  `isolate=False` is
    the unsafe `--no-isolation` escape hatch (screening and limits stay on).
    """

    compile_seconds: float = 30.0
    run_seconds: float = 20.0
    memory_bytes: int = 2 * 1024**3
    output_bytes: int = 4 * 1024**2
    file_bytes: int = 64 * 1024**2
    isolate: bool = True


@dataclass
class SimulationResult:
    """What happened.

    `status` is one of ok, compile_error, timeout, output_limit, memory_limit,
    crash or runtime_error; `message` is a one-line explanation of a failure.
    """

    status: str
    compile_log: str = ""
    output: str = ""
    returncode: int | None = None
    seconds: float = 0.0
    details: dict[str, str] = field(default_factory=dict)
    message: str = ""

    @property
    def compiled(self) -> bool:
        """True when iverilog accepted the sources (the run may still have failed)."""
        return self.status != "compile_error"


@dataclass(frozen=True)
class Completed:
    """One limited process run: its exit code (negative = signal), or why it was stopped."""

    returncode: int | None
    timed_out: bool
    wall_backstop: bool = False

    @property
    def signal(self) -> int | None:
        code = self.returncode
        return -code if code is not None and code < 0 else None


def wall_backstop(cpu_seconds: float) -> float:
    """Wall-clock seconds after which a process is killed even if it used little CPU."""
    return max(10 * cpu_seconds, cpu_seconds + 120)


def _limit_child(limits: Limits, cpu_seconds: float):
    """Build the preexec_fn that applies `limits` in the child before exec."""
    cpu = max(1, int(cpu_seconds + 0.999))

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


def run_limited(argv: list[str], work: Path, cpu_seconds: float, limits: Limits, log: Path,
                mode: str) -> Completed:
    """Run `argv` in `work` under `mode` isolation with stdout+stderr into `log`.

    bubblewrap and `unshare --fork` report a child killed by signal N as exit
    code 128 + N; that is turned back into -N, as subprocess reports it.
    """
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C", "HOME": str(work), "TMPDIR": str(work)}
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            isolation.wrap(argv, work, mode),
            cwd=work,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            preexec_fn=_limit_child(limits, cpu_seconds),
            start_new_session=True,
        )
        try:
            code = proc.wait(timeout=wall_backstop(cpu_seconds))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return Completed(None, True, wall_backstop=True)
    if mode != "none" and code > 128:
        code = 128 - code
    if code in (-signal.SIGXCPU, -signal.SIGKILL):
        return Completed(code, True)
    return Completed(code, False)


def _read_capped(path: Path, limit: int) -> str:
    """Read at most `limit` bytes of a log as text (the process may have been cut off mid-line)."""
    with open(path, "rb") as handle:
        return handle.read(limit).decode("utf-8", errors="replace")


def crash_message(tool: str, done: Completed, log: str) -> tuple[str, str]:
    """A (status, one-line message) for a failed process, naming memory exhaustion and signals plainly."""
    if "bad_alloc" in log or "out of memory" in log.lower():
        return "memory_limit", f"{tool} ran out of memory (std::bad_alloc under the memory limit)"
    if done.signal is not None:
        name = signal.Signals(done.signal).name if done.signal in signal.Signals._value2member_map_ else done.signal
        return "crash", f"{tool} crashed (killed by {name})"
    return "runtime_error", f"{tool} exited with status {done.returncode}"


class Workspace:
    """A fresh temporary folder for one sample, writable by the isolated processes, removed afterwards.

    `mode` forces an isolation mode ("bwrap", "unshare", "none") instead of the best available one.
    """

    def __init__(self, limits: Limits, mode: str | None = None) -> None:
        self.limits = limits
        self.mode = mode or isolation.mode(limits.isolate)
        self._tmp = tempfile.TemporaryDirectory(prefix="verifrag-sim-")
        self.path = Path(self._tmp.name)
        if self.mode == "unshare" and os.geteuid() == 0:
            os.chown(self.path, _NOBODY, _NOBODY)

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self._tmp.cleanup()

    def write(self, name: str, text: str) -> None:
        """Write a source file; `name` must be a plain file name, not a path."""
        if Path(name).name != name:
            raise ValueError(f"source names must be plain file names, got {name!r}")
        (self.path / name).write_text(text)

    def run(self, argv: list[str], cpu_seconds: float, log_name: str) -> tuple[Completed, str, int]:
        """Run `argv` here under the limits; return how it ended, its capped log text and the log's size."""
        log = self.path / log_name
        done = run_limited(argv, self.path, cpu_seconds, self.limits, log, self.mode)
        return done, _read_capped(log, self.limits.output_bytes), log.stat().st_size


def simulate(
    sources: dict[str, str],
    top: str,
    *,
    limits: Limits = Limits(),
    compile_flags: tuple[str, ...] = DEFAULT_COMPILE_FLAGS,
) -> SimulationResult:
    """Compile `sources` (file name -> text, in command-line order) with top `top` and run them."""
    start = time.monotonic()
    with Workspace(limits) as work:
        for name, text in sources.items():
            work.write(name, text)
        argv = ["iverilog", *compile_flags, "-s", top, "-o", "sim.vvp", *sources]
        done, log_text, _ = work.run(argv, limits.compile_seconds, "compile.log")
        if done.timed_out:
            return SimulationResult("timeout", log_text, seconds=time.monotonic() - start,
                                    details={"phase": "compile", "clock": "wall" if done.wall_backstop else "cpu"},
                                    message=_timeout_message("compile", limits.compile_seconds, done))
        if done.returncode != 0 or not (work.path / "sim.vvp").exists():
            status, message = "compile_error", ""
            if done.signal is not None or "bad_alloc" in log_text:
                message = crash_message("iverilog", done, log_text)[1]
            return SimulationResult(status, log_text, returncode=done.returncode,
                                    seconds=time.monotonic() - start, message=message)
        done, output, size = work.run(["vvp", "-n", "sim.vvp"], limits.run_seconds, "run.log")
        elapsed = time.monotonic() - start
        if done.timed_out:
            return SimulationResult("timeout", log_text, output, seconds=elapsed,
                                    details={"phase": "run", "clock": "wall" if done.wall_backstop else "cpu"},
                                    message=_timeout_message("simulation", limits.run_seconds, done))
        if done.returncode == -signal.SIGXFSZ or size > limits.output_bytes:
            return SimulationResult("output_limit", log_text, output, done.returncode, elapsed,
                                    message=f"simulation output exceeded {limits.output_bytes} bytes")
        if done.returncode != 0:
            status, message = crash_message("vvp", done, output)
            return SimulationResult(status, log_text, output, done.returncode, elapsed, message=message)
        return SimulationResult("ok", log_text, output, done.returncode, elapsed)


def _timeout_message(phase: str, seconds: float, done: Completed) -> str:
    if done.wall_backstop:
        return f"{phase} timed out: {wall_backstop(seconds):g} s of wall-clock time"
    return f"{phase} timed out after {seconds:g} s of CPU time"
