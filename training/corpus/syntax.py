"""Does a module parse on its own? The corpus keeps only modules that do.

Each sample is shown to the model alone, and generated modules are judged alone, so a module must be
syntactically valid without the rest of its project. Modules that use macros or headers from other
files fail that test through the preprocessor (slang reports an undefined macro as `UnknownDirective`);
they are counted apart from plain syntax errors so the report shows how much such context costs, and
both are dropped: nothing is predefined, because a sample that leans on an invisible `define teaches
the model to invent macros.
"""

from __future__ import annotations

import enum

from verifrag.syntax.diagnostics import parse_diagnostics

_PREPROCESSOR_CODES = frozenset(
    {"UnknownDirective", "CouldNotOpenIncludeFile", "UndefinedMacro", "ExpectedMacroArgs", "ExpectedIncludeFileName"}
)


class Verdict(str, enum.Enum):
    OK = "ok"
    MACRO_OR_INCLUDE = "macro_or_include"  # needs a macro or header from elsewhere
    SYNTAX_ERROR = "syntax_error"


def check_module(code: str) -> Verdict:
    """Parse the module alone; any error fails it, attributed to the preprocessor when one of its codes appears."""
    errors = {d.code for d in parse_diagnostics(code) if d.severity == "error"}
    if not errors:
        return Verdict.OK
    return Verdict.MACRO_OR_INCLUDE if errors & _PREPROCESSOR_CODES else Verdict.SYNTAX_ERROR
