"""Where corpus Verilog comes from: directories given by the user and installed `pythondata-*` packages.

Sources are walked in a fixed order (sources as given, files sorted by path) so that every later stage,
near-duplicate removal above all (it keeps the first copy it sees), gives the same result on every run.
Files are read one at a time: the pipeline never holds more than one file's text.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from verifrag.errors import UserError
from verifrag.syntax.source import decode_source
from verifrag.training.corpus.licenses import UNKNOWN, license_of

# Module sources only: headers (.vh/.svh) hold macros and parameters, not modules, and are
# recorded as `include context by the splitter instead.
MODULE_SUFFIXES = (".v", ".sv")
SPEC_SUFFIXES = (".txt", ".md")
SPEC_MAX_CHARS = 4000
PACKAGE_PREFIX = "pythondata-"


@dataclass(frozen=True)
class SourceFile:
    """One Verilog file: `source` names its origin (package or directory), `path` is relative to it."""

    source: str
    path: str
    text: str
    spec: str | None  # a sibling `<stem>.txt`/`<stem>.md` describing the file, used as the instruction
    license: str = UNKNOWN  # SPDX-style identifier (see corpus.licenses)
    license_required: bool = False  # drop the file unless its licence is allowed (package sources)


@dataclass(frozen=True)
class SourceRoot:
    """A directory to walk and the name its files are recorded under."""

    name: str
    root: Path
    # Published packages must show an allowed licence; a user's own directory is the user's call.
    license_required: bool = False


def installed_packages() -> list[str]:
    """Distribution names of every installed `pythondata-*` package, sorted."""
    names = {
        (dist.metadata["Name"] or "").lower()
        for dist in importlib.metadata.distributions()
    }
    return sorted(name for name in names if name.startswith(PACKAGE_PREFIX))


def package_root(name: str) -> SourceRoot:
    """The installed directory of a pythondata package, found without importing it.

    `find_spec` on a top-level name locates the package without running its `__init__`, which in
    some pythondata packages does path arithmetic we do not need.
    """
    module = name.strip().lower().replace("-", "_")
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise UserError(f"package {name!r} is not installed (try: pip install {name.replace('_', '-')})")
    return SourceRoot(name.strip().lower().replace("_", "-"), Path(next(iter(spec.submodule_search_locations))),
                      license_required=True)


def directory_root(path: str) -> SourceRoot:
    """A user directory; its files are recorded under the directory's own name."""
    root = Path(path).expanduser()
    if not root.is_dir():
        raise UserError(f"not a directory: {path}")
    return SourceRoot(root.resolve().name or str(root), root)


def _read_spec(path: Path) -> str | None:
    for suffix in SPEC_SUFFIXES:
        candidate = path.with_suffix(suffix)
        if candidate.is_file():
            text = decode_source(candidate.read_bytes()).strip()
            return text[:SPEC_MAX_CHARS] or None
    return None


def module_files(root: SourceRoot) -> list[Path]:
    """The `.v`/`.sv` files under a root, sorted by their relative path."""
    found = [p for p in root.root.rglob("*") if p.suffix in MODULE_SUFFIXES and p.is_file()]
    return sorted(found, key=lambda p: p.relative_to(root.root).as_posix())


def iter_files(roots: Iterable[SourceRoot]) -> Iterator[SourceFile]:
    """Every module file of every root, read lazily in a reproducible order."""
    for root in roots:
        for path in module_files(root):
            text = decode_source(path.read_bytes())
            relative = path.relative_to(root.root).as_posix()
            yield SourceFile(root.name, relative, text, _read_spec(path), license_of(root.root, relative, text),
                             root.license_required)
