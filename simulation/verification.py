"""Signal-aware verification: simulate candidate and reference together, count mismatches per output.

SALV (DESIGN section 6) needs a verdict per output signal, not per module, so a
sample with one wrong output still teaches the model about its correct ones.
A compile error, refusal, timeout or crash is a whole-sample failure: no
signal verdicts are reported for it (`signals` is empty).

The candidate is screened and replaced by its preprocessed text (see
`screening.screen_source`), and only result lines carrying this run's nonce
are read (see `nonce`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from verifrag.simulation.interface import InterfaceError, ModuleInterface, read_interface
from verifrag.simulation.nonce import marked_lines, new_nonce
from verifrag.simulation.renaming import rename_modules, top_modules
from verifrag.simulation.sandbox import Limits, simulate
from verifrag.simulation.screening import screen, screen_source
from verifrag.simulation.testbench import DONE_MARK, SIGNAL_MARK, TESTBENCH_TOP, build_testbench
from verifrag.simulation.vectors import generate_vectors

DEFAULT_VECTORS = 256
_REF_SUFFIX = "__vf_ref"
_CAND_SUFFIX = "__vf_cand"


@dataclass(frozen=True)
class SignalVerdict:
    """How often one output differed from the reference, out of how many checks."""

    mismatches: int
    checked: int

    @property
    def correct(self) -> bool:
        return self.checked > 0 and self.mismatches == 0


@dataclass
class VerificationResult:
    """Outcome of one verification.

    `status` is ok, refused, compile_error, timeout, output_limit,
    memory_limit, crash or runtime_error.
    """

    status: str
    error: str | None = None
    signals: dict[str, SignalVerdict] = field(default_factory=dict)
    log: str = ""

    @property
    def compiled(self) -> bool:
        return self.status not in ("refused", "compile_error")

    @property
    def all_correct(self) -> bool:
        return self.status == "ok" and bool(self.signals) and all(v.correct for v in self.signals.values())

    def correct_signals(self) -> set[str]:
        return {name for name, verdict in self.signals.items() if verdict.correct}

    def wrong_signals(self) -> set[str]:
        return {name for name, verdict in self.signals.items() if not verdict.correct}

    def to_json(self) -> dict:
        """The `verifrag verify --json` object (DESIGN section 4), plus `status`."""
        return {
            "compiled": self.compiled,
            "error": self.error,
            "signals": {n: {"mismatches": v.mismatches, "checked": v.checked} for n, v in self.signals.items()},
            "all_correct": self.all_correct,
            "status": self.status,
        }


def _parse_output(output: str, interface: ModuleInterface, nonce: str) -> dict[str, SignalVerdict] | None:
    """Per-signal verdicts from the nonce-marked lines, or None unless every output and the end were reported."""
    verdicts = {}
    done = False
    for line in marked_lines(output, nonce):
        parts = line.split()
        if len(parts) == 4 and parts[0] == SIGNAL_MARK and parts[2].isdigit() and parts[3].isdigit():
            verdicts[parts[1]] = SignalVerdict(int(parts[2]), int(parts[3]))
        elif line == DONE_MARK:
            done = True
    if not done or set(verdicts) != {p.name for p in interface.outputs}:
        return None
    return verdicts


def _pick_candidate_top(candidate: str, reference_top: str) -> str | None:
    tops = top_modules(candidate)
    for preferred in (reference_top, "TopModule"):
        if preferred in tops:
            return preferred
    return tops[0] if len(tops) == 1 else None


def verify(
    reference: str,
    candidate: str,
    *,
    vectors: int = DEFAULT_VECTORS,
    seed: int = 0,
    top: str | None = None,
    limits: Limits = Limits(),
) -> VerificationResult:
    """Verify `candidate` source text against `reference` source text.

    Raises `InterfaceError` when the *reference* is unusable (it does not
    parse, has no single top module, unsupported ports, forbidden tasks);
    every problem with the candidate is reported in the result instead.
    """
    refused = screen(reference, "reference.sv")
    if refused:
        raise InterfaceError(f"reference refused: {refused[0]}")
    interface = read_interface(reference, top)
    screened = screen_source(candidate, limits)
    if screened.refusals:
        return VerificationResult("refused", f"candidate refused: {screened.refused_message}")
    if screened.text is None:
        return VerificationResult("compile_error", screened.error)
    candidate = screened.text
    candidate_top = _pick_candidate_top(candidate, interface.name)
    if candidate_top is None:
        tops = ", ".join(top_modules(candidate)) or "none"
        return VerificationResult("compile_error", f"cannot tell which candidate module to test (top modules: {tops})")
    reference_text, reference_names = rename_modules(reference, _REF_SUFFIX)
    candidate_text, candidate_names = rename_modules(candidate, _CAND_SUFFIX)
    steps = generate_vectors(interface, vectors, seed)
    nonce = new_nonce()
    bench = build_testbench(interface, reference_names[interface.name], candidate_names[candidate_top], steps, nonce)
    run = simulate(
        {"testbench.sv": bench, "reference.sv": reference_text, "candidate.sv": candidate_text},
        TESTBENCH_TOP,
        limits=limits,
    )
    if run.status == "compile_error":
        return VerificationResult("compile_error", run.message or _first_lines(run.compile_log), log=run.compile_log)
    if run.status in ("timeout", "output_limit", "memory_limit", "crash"):
        return VerificationResult(run.status, run.message, log=run.output)
    verdicts = _parse_output(run.output, interface, nonce)
    if run.status != "ok" or verdicts is None:
        return VerificationResult("runtime_error", run.message or "simulation ended before reporting every output",
                                  log=run.output)
    return VerificationResult("ok", None, verdicts, run.output)


def _first_lines(log: str, count: int = 3) -> str:
    """A short error message: the first lines of a compiler or simulator log."""
    return "\n".join(log.strip().splitlines()[:count])
