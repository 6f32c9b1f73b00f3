"""`verifrag` command line: one module per subcommand, imported only when that subcommand runs.

Each subcommand module defines `add_arguments(parser)` and `run(args) -> int`. Only the module of the
chosen subcommand is imported, and modules import torch, transformers and pyslang inside `run`, after
their arguments and files are checked: `verifrag --help`, `--version` and usage errors answer without
loading them (they take seconds to import).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from types import ModuleType

from verifrag import __version__
from verifrag.errors import UserError

SUBCOMMANDS: dict[str, str] = {
    "generate": "Generate Verilog from a prompt with the next-token or Medusa decoder.",
    "serve": "Run the language server (stdio by default).",
    "train": "Offline training: corpus data, Medusa heads, SALV.",
    "verify": "Signal-aware verification of a candidate module against a reference.",
    "eval": "pass@k on VerilogEval-layout problems with iverilog.",
    "bench": "Decoding speed: next-token, Medusa, fragment snapping and peer methods.",
    "doctor": "Check the environment: Python, venv, torch, iverilog, isolation, pyslang, model, editors.",
}


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line, named after the (sub)command, with exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        raise SystemExit(2)


def _chosen(argv: list[str]) -> str | None:
    """The subcommand named on the command line: the first word that is not an option (the top level
    has no options that take a value)."""
    for word in argv:
        if not word.startswith("-"):
            return word
    return None


def build_parser(command: str | None = None) -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The top-level parser, and the subcommand parsers by name. Only `command`'s parser gets its
    arguments (importing its module); the others carry just their help line for `verifrag --help`."""
    parser = _Parser(prog="verifrag", description="VeriFrag: a syntax-aware Verilog coding assistant.",
                     epilog="Run `verifrag COMMAND --help` for a command's options.")
    parser.add_argument("--version", action="version", version=f"verifrag {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    parsers = {}
    for name, help_text in SUBCOMMANDS.items():
        parsers[name] = sub.add_parser(name, help=help_text, description=help_text)
        if name == command:
            module = _module(name)
            module.add_arguments(parsers[name])
            parsers[name].set_defaults(_module=module)
    return parser, parsers


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"verifrag.cli.{name}_command")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser, parsers = build_parser(_chosen(argv))
    args, extra = parser.parse_known_args(argv)
    if extra:
        parsers.get(args.command, parser).error(f"unrecognized arguments: {' '.join(extra)}")
    if not getattr(args, "_module", None):
        parser.print_help()
        return 2
    # peft asks transformers 5 for a deprecated property every time it wraps a model (training, SALV,
    # Medusa heads); the warning says nothing a user can act on.
    warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
    try:
        return int(args._module.run(args) or 0)
    except UserError as exc:
        sys.stderr.write(f"verifrag {args.command}: error: {exc}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("verifrag: interrupted\n")
        return 130
