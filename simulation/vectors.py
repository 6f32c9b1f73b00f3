"""Input stimulus for generated testbenches: edge values first, then seeded random vectors.

Edge values catch the classic slips random vectors miss (a wrong constant, an
inverted bit, an off-by-one select): all zeros, all ones, and a single one
walking across the data input bits.  Vectors are produced here in Python, not
with `$random` in the testbench, so any width works and a seed gives the same
stimulus on any simulator version.
"""

from __future__ import annotations

import random

from verifrag.simulation.interface import ModuleInterface, Port

MAX_WALKING_POSITIONS = 64
"""Walking-one vectors per testbench; wider inputs get evenly spaced bit positions."""

RESET_PROBABILITY = 1 / 16
"""Chance that a random cycle of a sequential design asserts reset again mid-run."""

RESET_CYCLES = 2
"""Cycles with reset asserted at the start of a sequential run, so both designs reach a known state."""


def _reset_value(port: Port, asserted: bool) -> int:
    return int(asserted) if port.role == "reset" else int(not asserted)


def generate_vectors(interface: ModuleInterface, count: int, seed: int) -> list[dict[str, int]]:
    """Return one value per non-clock input for every step of the run, in order.

    Sequential designs (any clock) start with `RESET_CYCLES` reset cycles and
    then see resets asserted at random; in combinational designs reset-named
    inputs are ordinary data.
    """
    rng = random.Random(seed)
    sequential = bool(interface.clocks)
    resets = [p for p in interface.inputs if sequential and p.role in ("reset", "reset_n")]
    data = [p for p in interface.inputs if p.role != "clock" and p not in resets]

    def vector(values: dict[str, int], reset: bool) -> dict[str, int]:
        row = {p.name: _reset_value(p, reset) for p in resets}
        row.update(values)
        return row

    steps = [vector({p.name: 0 for p in data}, True) for _ in range(RESET_CYCLES if resets else 0)]
    steps.append(vector({p.name: 0 for p in data}, False))
    steps.append(vector({p.name: (1 << p.width) - 1 for p in data}, False))
    total_bits = sum(p.width for p in data)
    positions = range(total_bits)
    if total_bits > MAX_WALKING_POSITIONS:
        positions = sorted({i * total_bits // MAX_WALKING_POSITIONS for i in range(MAX_WALKING_POSITIONS)})
    for position in positions:
        values, offset = {}, 0
        for p in data:
            inside = offset <= position < offset + p.width
            values[p.name] = 1 << (position - offset) if inside else 0
            offset += p.width
        steps.append(vector(values, False))
    for _ in range(count):
        values = {p.name: rng.getrandbits(p.width) for p in data}
        steps.append(vector(values, rng.random() < RESET_PROBABILITY))
    return steps
