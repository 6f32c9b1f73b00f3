"""Command-line flags of the language server and its start-up, shared by `verifrag serve` and
`python -m verifrag.server` (the latter works even while other subcommands are missing)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from verifrag.errors import UserError
from verifrag.model.options import DTYPE_HELP, DTYPES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    transport = parser.add_mutually_exclusive_group()
    transport.add_argument("--stdio", action="store_true", help="talk LSP over stdin/stdout (the default)")
    transport.add_argument("--tcp", action="store_true", help="listen on a TCP socket instead of stdio")
    parser.add_argument("--host", default="127.0.0.1", help="TCP address to bind (default: 127.0.0.1, loopback only)")
    parser.add_argument("--port", type=int, default=2087, help="TCP port (default: 2087)")
    parser.add_argument("--checkpoint", type=Path, help="checkpoint directory (default: the bundled one); "
                        "the client's `checkpoint` setting overrides it")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, mps (default: auto)")
    parser.add_argument("--dtype", default="auto", choices=DTYPES, help=DTYPE_HELP)
    parser.add_argument("--log-file", type=Path, help="write the server's log here (stdio carries LSP, so no log goes to stdout)")
    parser.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))


def run(args: argparse.Namespace) -> int:
    if args.tcp and not 0 < args.port < 65536:
        raise UserError(f"--port must lie in 1..65535, not {args.port}")
    from verifrag.server.app import create_server
    from verifrag.server.config import ServerConfig, update_config

    options = {"checkpoint": str(args.checkpoint) if args.checkpoint else None, "device": args.device, "dtype": args.dtype}
    config, problems = update_config(ServerConfig(), options)
    if problems:
        raise UserError("; ".join(problems))
    if args.log_file is not None:
        try:
            logging.basicConfig(filename=args.log_file, level=args.log_level,
                                format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        except OSError as exc:
            raise UserError(f"cannot write the log file {args.log_file}: {exc.strerror}") from exc
    else:
        logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    server = create_server(config)
    if args.tcp:
        server.start_tcp(args.host, args.port)
    else:
        server.start_io()
    return 0
