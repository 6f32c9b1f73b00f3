"""`python -m verifrag.server [flags]`: the same server and flags as `verifrag serve`."""

import argparse
import sys

from verifrag.errors import UserError
from verifrag.server.launch import add_arguments, run

parser = argparse.ArgumentParser(prog="python -m verifrag.server", description="VeriFrag language server")
add_arguments(parser)
try:
    raise SystemExit(run(parser.parse_args()))
except UserError as exc:
    sys.stderr.write(f"verifrag serve: error: {exc}\n")
    raise SystemExit(1)
