"""Sandboxed iverilog simulation: screening, limited runs, generated testbenches, per-signal verification.

Entry points: `verification.verify` (candidate vs reference, per output signal)
and `sandbox.simulate` (compile and run given sources under limits).
"""
