"""`verifrag` command line: one module per subcommand, imported only when used.

Each subcommand module defines `add_arguments(parser)` and `run(args) -> int`.
Importing lazily keeps `verifrag --help` fast and lets `verify` or `eval` run
without loading torch.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from verifrag import __version__
from verifrag.errors import UserError

SUBCOMMANDS: dict[str, str] = {
    "generate": "Generate Verilog from a prompt with the next-token or Medusa decoder.",
    "serve": "Run the language server (stdio by default).",
    "train": "Offline training: corpus data, Medusa heads, SALV.",
    "verify": "Signal-aware verification of a candidate module against a reference.",
    "eval": "pass@k on VerilogEval-layout problems with iverilog.",
    "bench": "Decoding speed: next-token, Medusa, fragment snapping and peer methods.",
}


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"verifrag: error: {message}\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="verifrag", description="VeriFrag: a syntax-aware Verilog coding assistant.")
    parser.add_argument("--version", action="version", version=f"verifrag {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, help_text in SUBCOMMANDS.items():
        module = importlib.import_module(f"verifrag.cli.{name}_command")
        sp = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(sp)
        sp.set_defaults(_module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_module", None):
        parser.print_help()
        return 2
    try:
        return int(args._module.run(args) or 0)
    except UserError as exc:
        sys.stderr.write(f"verifrag {args.command}: error: {exc}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("verifrag: interrupted\n")
        return 130
