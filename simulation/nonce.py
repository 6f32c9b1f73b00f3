"""Per-run secret nonces, so a candidate cannot print a line the judge takes for a result.

Candidates may `$display` anything, including our result markers and
VerilogEval's `Mismatches: 0 in 20 samples`.  So every result line the
testbench prints starts with a fresh random nonce made for that run; the
candidate never sees it (screening refuses file reads, includes and
hierarchical references into the testbench), and the judge reads only lines
that start with it.
"""

from __future__ import annotations

import secrets


def new_nonce() -> str:
    """128 random bits as hex: a fresh secret for one simulation."""
    return "VF" + secrets.token_hex(16)


def marked_lines(output: str, nonce: str) -> list[str]:
    """The lines of `output` that start with `nonce` and a space, without that prefix."""
    prefix = nonce + " "
    return [line[len(prefix):].rstrip() for line in output.splitlines() if line.startswith(prefix)]
