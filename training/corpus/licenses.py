"""Which licence covers a corpus file, and whether the corpus may use it.

Every record carries its licence so that what the model learned from stays traceable. A file's own
`SPDX-License-Identifier` line wins; otherwise the nearest licence file (LICENSE*, LICENCE*, COPYING*)
in its directory or above it, up to the source root, decides: vendored trees inside a core (opentitan
carries ibex, pulp's riscv-dbg, Berkeley test code) keep their own licence files, so the nearest one is
the right one. Licence texts are recognised by phrases every copy of them contains.

Allowed: permissive licences, and the weakly reciprocal hardware licences (CERN-OHL-W, OHDL) whose
obligations attach to modified copies of the files themselves, which the issue's package list
includes (mor1kx, marocchino). Strongly reciprocal (GPL), proprietary (Lattice's lm32 licence, the
CoreMark agreement) and unrecognised texts are dropped and counted.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

UNKNOWN = "unknown"
LICENSE_FILE = re.compile(r"^(licen[cs]e|copying)([._-].*)?$", re.IGNORECASE)
_SPDX = re.compile(r"SPDX-License-Identifier:\s*([A-Za-z0-9.+() -]+?)\s*(\*/)?\s*$", re.MULTILINE)
SPDX_SCAN_CHARS = 4000  # the identifier sits in the header; never scan a whole generated file

# (identifier, phrases that must all appear, case-insensitive), most specific first.
_TEXTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("SHL-0.51", ("solderpad hardware licen", "0.51")),
    ("SHL-2.1", ("solderpad hardware licen", "2.1")),
    ("SHL-2.0", ("solderpad hardware licen", "2.0")),
    ("CERN-OHL-W-2.0", ("cern open hardware licen", "weakly reciprocal")),
    ("CERN-OHL-P-2.0", ("cern open hardware licen", "permissive")),
    ("OHDL-1.0", ("open hardware description license",)),
    ("Apache-2.0", ("apache license", "version 2.0")),
    ("LGPL", ("gnu lesser general public license",)),
    ("GPL", ("gnu general public license",)),
    ("ISC", ("permission to use, copy, modify, and/or distribute",)),
    ("MIT", ("permission is hereby granted, free of charge",)),
    ("BSD-3-Clause", ("redistribution and use in source and binary forms", "neither the name")),
    ("BSD-2-Clause", ("redistribution and use in source and binary forms",)),
    ("Unlicense", ("free and unencumbered software released into the public domain",)),
    ("CC0-1.0", ("cc0 1.0 universal",)),
    ("LicenseRef-proprietary", ("lattice semiconductor corporation",)),
    ("LicenseRef-proprietary", ("acceptable use agreement",)),
)

PERMISSIVE = frozenset({
    "Apache-2.0", "MIT", "ISC", "BSD-2-Clause", "BSD-3-Clause", "0BSD", "Unlicense", "CC0-1.0",
    "SHL-0.51", "SHL-2.0", "SHL-2.1", "CERN-OHL-P-2.0",
})
WEAK_RECIPROCAL = frozenset({"CERN-OHL-W-2.0", "OHDL-1.0", "MPL-2.0"})
ALLOWED = PERMISSIVE | WEAK_RECIPROCAL


def classify_text(text: str) -> str:
    """The SPDX-style identifier of a licence text, or UNKNOWN."""
    folded = " ".join(text[:20_000].lower().split())
    for identifier, phrases in _TEXTS:
        if all(phrase in folded for phrase in phrases):
            return identifier
    return UNKNOWN


def spdx_of(source_text: str) -> str | None:
    """The expression of a file's own SPDX line, first licence term only (`Apache-2.0 WITH SHL-2.1` -> Apache-2.0)."""
    found = _SPDX.search(source_text[:SPDX_SCAN_CHARS])
    if not found:
        return None
    expression = found.group(1).strip().strip("()")
    return re.split(r"\s+(?:WITH|OR|AND)\s+", expression)[0].strip() or None


def allowed(identifier: str) -> bool:
    """May the corpus use a file under this licence?"""
    return identifier in ALLOWED


@lru_cache(maxsize=4096)
def _directory_license(directory: Path) -> str | None:
    """The licence of the licence files in one directory (not its parents); None when it has none.

    Several files in one directory (`LICENSE.apache` and `LICENSE.solderpad`, dual licensing) give the
    first allowed one in name order.
    """
    found = []
    for path in sorted(directory.iterdir()) if directory.is_dir() else ():
        if path.is_file() and LICENSE_FILE.match(path.name):
            found.append(classify_text(path.read_text(encoding="utf-8", errors="replace")))
    if not found:
        return None
    return next((identifier for identifier in found if allowed(identifier)), found[0])


def license_of(root: Path, relative: str, source_text: str) -> str:
    """The licence covering `root/relative`: its SPDX line, else the nearest licence file up to the root."""
    own = spdx_of(source_text)
    if own:
        return own
    root = root.resolve()
    directory = (root / relative).parent.resolve()
    while True:
        found = _directory_license(directory)
        if found is not None:
            return found
        if directory == root or root not in directory.parents:
            return UNKNOWN
        directory = directory.parent
