"""`verifrag doctor`: one line per check of the environment, with the fix for each that fails."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = ("Checks: Python version, virtual environment, torch build, iverilog version, simulation "
                     "isolation (bubblewrap), pyslang, the default model file, Neovim and node. Exit status 1 "
                     "when a required check fails; Neovim and node (editors only) only warn.")


def run(args: argparse.Namespace) -> int:
    from verifrag.doctor import run_checks

    results = run_checks()
    for check in results:
        print(check.line())
    failed = [c.name for c in results if not c.ok and c.required]
    print(f"doctor: {'set-up is incomplete: ' + ', '.join(failed) if failed else 'everything VeriFrag needs is here'}")
    return 1 if failed else 0
