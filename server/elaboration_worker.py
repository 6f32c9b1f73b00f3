"""The child process that elaborates: `python -m verifrag.server.elaboration_worker`.

pyslang's `Compilation` can take minutes, exhaust memory, or crash with a segfault on pathological input
(one expression of 50,000 operands overflows its recursion). In here that costs a child process, not the
language server. The child caps its own address space once and, before each job, its CPU time to what
it has used plus the job's budget (`RLIMIT_CPU` counts the whole process life), so a job over budget ends
by SIGXCPU. CPU time, not wall-clock time, so a busy machine does not fail a job that would finish.

Protocol: one JSON object a line on stdin, `{"documents": {name: text}, "include_dirs": [...],
"library_dirs": [...], "cpu_seconds": n}`; one JSON object a line on stdout, `{"diagnostics": {name:
[record fields...]}}` or `{"error": message}`. End of input ends the child.
"""

from __future__ import annotations

import dataclasses
import json
import math
import resource
import sys


def limit_memory(max_bytes: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (max_bytes, max_bytes))


def limit_cpu(seconds: int) -> None:
    """Allow `seconds` more CPU seconds from now (the hard limit stays, so the next job can raise it)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = math.ceil(usage.ru_utime + usage.ru_stime)
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    resource.setrlimit(resource.RLIMIT_CPU, (used + seconds, hard))


def handle(request: dict) -> dict:
    from verifrag.syntax.diagnostics import semantic_diagnostics

    limit_cpu(int(request["cpu_seconds"]))
    try:
        found = semantic_diagnostics(request["documents"], request["include_dirs"], request["library_dirs"])
    except MemoryError:
        return {"error": "out of memory"}
    except (RuntimeError, OSError) as exc:  # slang gives up on some input; an include dir may vanish
        return {"error": f"{type(exc).__name__}: {exc}"}
    return {"diagnostics": {name: [dataclasses.astuple(r) for r in records] for name, records in found.items()}}


def main() -> None:
    limit_memory(int(sys.argv[1]))
    for line in sys.stdin:
        sys.stdout.write(json.dumps(handle(json.loads(line))) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
