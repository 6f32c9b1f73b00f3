"""`verifrag verify`: signal-aware verification of a candidate module against a reference."""

from __future__ import annotations

import argparse

EXIT_ALL_CORRECT = 0
EXIT_NOT_CORRECT = 3

EPILOG = f"""exit status:
  {EXIT_ALL_CORRECT}  every output matched the reference at every check
  {EXIT_NOT_CORRECT}  the candidate was refused, did not compile, timed out, crashed or mismatched
  1  user error (missing file, unusable reference), 2 usage error

Clocks (clk, clock, *_clk ...) and resets (rst, reset, areset, *_rst, rst_n/resetn active low)
are recognised by name among 1-bit inputs; x/z bits in the reference are don't-cares.
See docs/simulation-and-evaluation.md."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG
    parser.add_argument("--reference", required=True, metavar="REF.v", help="trusted reference module")
    parser.add_argument("--candidate", required=True, metavar="CAND.v", help="untrusted candidate module")
    parser.add_argument("--vectors", type=int, default=256, metavar="N", help="random input vectors (default 256)")
    parser.add_argument("--seed", type=int, default=0, help="seed for the random vectors (default 0)")
    parser.add_argument("--top", default=None, help="reference module to test when the file has several tops")
    parser.add_argument("--timeout", type=float, default=20.0, metavar="S",
                        help="simulation limit in CPU seconds (a wall-clock backstop is 10x that)")
    parser.add_argument("--no-isolation", action="store_true",
                        help="UNSAFE: run iverilog/vvp without bubblewrap/unshare isolation (screening and limits stay)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _read(path: str, what: str) -> str:
    from pathlib import Path

    from verifrag.errors import UserError

    file = Path(path)
    if not file.is_file():
        raise UserError(f"{what} file not found: {path}")
    return file.read_text(encoding="utf-8", errors="replace")


def run(args: argparse.Namespace) -> int:
    import json

    from verifrag.errors import UserError

    if args.vectors < 0:
        raise UserError("--vectors must be 0 or more")
    if args.timeout <= 0:
        raise UserError("--timeout must be positive")
    reference = _read(args.reference, "reference")
    candidate = _read(args.candidate, "candidate")

    from verifrag.simulation.interface import InterfaceError  # pyslang: only once the files are read
    from verifrag.simulation.sandbox import Limits
    from verifrag.simulation.verification import verify

    try:
        result = verify(reference, candidate, vectors=args.vectors, seed=args.seed, top=args.top,
                        limits=Limits(run_seconds=args.timeout, isolate=not args.no_isolation))
    except InterfaceError as exc:
        raise UserError(str(exc)) from None
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
    else:
        print(f"status: {result.status}")
        if result.error:
            print(f"error: {result.error}")
        for name, verdict in result.signals.items():
            mark = "ok" if verdict.correct else "WRONG"
            print(f"  {name}: {mark} ({verdict.mismatches} mismatches in {verdict.checked} checks)")
        print("all correct" if result.all_correct else "not all correct")
    return EXIT_ALL_CORRECT if result.all_correct else EXIT_NOT_CORRECT
