"""Refuse untrusted Verilog that could touch the host or forge its verdict, before it reaches the simulator.

Model-generated code is untrusted (DESIGN section 9).  Screening looks at what
iverilog will really compile: the candidate is first run through iverilog's
own preprocessor (`iverilog -E`, inside the sandbox), so macros are expanded,
false `` `ifdef`` branches are gone, and the text that is screened is the text
that is then compiled (the candidate's preprocessed output replaces its
source, so its macros and directives cannot reach the testbench either).
The preprocessed text is lexed the way iverilog lexes (see `lexing`), and
the raw source is screened too, so a directive hidden in a false branch or
inside a macro body is still seen.  It is refused when it contains:

- a system task or function not in `ALLOWED_SYSTEM_TASKS`, written plainly
  (`$fopen`) or escaped (`\\$fopen `): file I/O, `$system`, `$readmem*`,
  `$dumpfile`, `$value$plusargs`, `$root`, VPI tasks ... and the tasks that
  end the simulation (`$finish`, `$stop`, `$fatal`), which would let a
  candidate stop the testbench before it counts its mismatches;
- a hierarchical name (`a.b`, `u[0].b`): the only way for a module to reach
  signals outside itself, such as the testbench's mismatch counters (and so
  also `force`/`release`/`defparam` on them);
- `` `include`` (iverilog's dependency list is checked as well, so an include
  produced by a macro is caught), macro token pasting and stringification,
  `bind`, DPI `import`/`export`, and `\"\"\"`, which other lexers read as the
  start of a multi-line string.

Named port connections (`.a(x)`) and `.*` are not hierarchical names.
"""

from __future__ import annotations

from dataclasses import dataclass

from verifrag.simulation.lexing import Token, tokens
from verifrag.simulation.sandbox import Limits, Workspace, crash_message

ALLOWED_SYSTEM_TASKS: frozenset[str] = frozenset(
    {
        # printing to the simulator's stdout (captured and size-limited by the sandbox)
        "$display", "$displayb", "$displayh", "$displayo",
        "$write", "$writeb", "$writeh", "$writeo",
        "$strobe", "$strobeb", "$strobeh", "$strobeo",
        "$monitor", "$monitorb", "$monitorh", "$monitoro", "$monitoron", "$monitoroff",
        "$sformat", "$sformatf", "$swrite", "$swriteb", "$swriteh", "$swriteo",
        "$error", "$warning", "$info",
        # time
        "$time", "$stime", "$realtime", "$timeformat", "$printtimescale",
        # random numbers
        "$random", "$urandom", "$urandom_range",
        "$dist_uniform", "$dist_normal", "$dist_exponential", "$dist_poisson",
        "$dist_chi_square", "$dist_t", "$dist_erlang",
        # conversions and type/array queries
        "$signed", "$unsigned", "$bits", "$clog2", "$size", "$dimensions",
        "$unpacked_dimensions", "$left", "$right", "$low", "$high", "$increment",
        "$countones", "$countbits", "$onehot", "$onehot0", "$isunknown",
        "$itor", "$rtoi", "$realtobits", "$bitstoreal", "$shortrealtobits",
        "$bitstoshortreal", "$cast", "$typename",
        # math
        "$ln", "$log10", "$exp", "$sqrt", "$pow", "$floor", "$ceil",
        "$sin", "$cos", "$tan", "$asin", "$acos", "$atan", "$atan2",
        "$hypot", "$sinh", "$cosh", "$tanh", "$asinh", "$acosh", "$atanh",
        "$abs", "$min", "$max",
    }
)
"""System tasks and functions candidate code may use; everything else is refused."""

REFUSED_DIRECTIVES: frozenset[str] = frozenset({"`include", "`__FILE__"})
"""Compiler directives that read other files or reveal host paths."""

_REFUSED_KEYWORDS = {"bind": "bind statements reach into other modules"}
_AFTER_NAME = ("name", "escaped", "system")


@dataclass(frozen=True)
class Refusal:
    """Why a piece of code was refused: the offending token and where it is."""

    token: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason} ({self.token})"


def _token_reason(token: Token, previous: Token | None, following: Token | None) -> str | None:
    name = token.name
    if name is not None and name.startswith("$") and name not in ALLOWED_SYSTEM_TASKS:
        return "system task or function not on the allow-list"
    if token.kind == "directive" and token.text in REFUSED_DIRECTIVES:
        return "file inclusion is not allowed"
    if token.kind == "paste" or (token.kind == "other" and token.text == "`"):
        return "macro token pasting or stringification is not allowed"
    if token.kind == "string" and token.text == '""' and following is not None and following.text.startswith('"') \
            and following.kind == "string" and following.line == token.line:
        return 'triple quotes are read differently by different lexers'
    if token.kind == "other" and token.text == "." and previous is not None and following is not None:
        if (previous.kind in _AFTER_NAME or previous.text in ("]", ")")) and following.kind in _AFTER_NAME:
            return "hierarchical references are not allowed"
    if token.kind == "name" and token.text in _REFUSED_KEYWORDS:
        return _REFUSED_KEYWORDS[token.text]
    if token.kind == "name" and token.text in ("import", "export") and following is not None \
            and following.kind == "string":
        return "DPI imports and exports are not allowed"
    return None


def screen(text: str, name: str = "candidate.sv") -> list[Refusal]:
    """Return every refused token in `text`, lexed as iverilog lexes it (empty: nothing refused).

    `name` is kept for the callers' messages; refusals carry line numbers.
    """
    found = tokens(text)
    refusals = []
    for index, token in enumerate(found):
        previous = found[index - 1] if index else None
        following = found[index + 1] if index + 1 < len(found) else None
        reason = _token_reason(token, previous, following)
        if reason is not None:
            refusals.append(Refusal(token.text, token.line, reason))
    return refusals


@dataclass(frozen=True)
class Screened:
    """A screened source: the preprocessed `text` to compile, or why there is none.

    `refusals` is non-empty when screening refused the code; `error` is a
    one-line preprocessor failure (a broken candidate, not a refused one).
    """

    text: str | None
    refusals: tuple[Refusal, ...] = ()
    error: str | None = None

    @property
    def refused_message(self) -> str:
        return "; ".join(map(str, self.refusals))


_PREPROCESSED = "preprocessed.sv"
_DEPENDENCIES = "dependencies.txt"


def screen_source(text: str, limits: Limits, name: str = "candidate.sv") -> Screened:
    """Screen `text` raw, preprocess it with `iverilog -E` in the sandbox, and screen the result.

    On success the preprocessed text (followed by `` `resetall``, so no
    directive of the candidate leaks into later files) is what must be
    compiled in place of `text`.
    """
    refusals = screen(text, name)
    if refusals:
        return Screened(None, tuple(refusals))
    with Workspace(limits) as work:
        work.write(name, text)
        argv = ["iverilog", "-E", "-g2012", "-M", _DEPENDENCIES, "-o", _PREPROCESSED, name]
        done, log, _ = work.run(argv, limits.compile_seconds, "preprocess.log")
        dependencies = work.path / _DEPENDENCIES
        read = dependencies.read_text(errors="replace").split() if dependencies.exists() else []
        if any(file != name for file in read):
            return Screened(None, (Refusal("`include", 0, "file inclusion is not allowed"),))
        if done.timed_out:
            return Screened(None, error=f"preprocessor timed out after {limits.compile_seconds:g} s of CPU time")
        output = work.path / _PREPROCESSED
        if done.returncode != 0 or not output.exists():
            if done.signal is not None:
                return Screened(None, error=crash_message("iverilog's preprocessor", done, log)[1])
            first = next((line for line in log.splitlines() if line.strip()), "preprocessing failed")
            return Screened(None, error=first.replace(str(work.path), "").strip())
        preprocessed = output.read_text(errors="replace")
    refusals = screen(preprocessed, name)
    if refusals:
        return Screened(None, tuple(Refusal(r.token, r.line, r.reason + " (after preprocessing)") for r in refusals))
    return Screened(preprocessed + "\n`resetall\n")
