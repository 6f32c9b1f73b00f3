"""`verifrag serve`: the language server over stdio (default) or TCP; flags live in server/launch.py so
`python -m verifrag.server` accepts the same ones."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from verifrag.server.launch import add_arguments as server_arguments

    server_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from verifrag.server.launch import run as serve

    return serve(args)
