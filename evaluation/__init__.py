"""VerilogEval-style evaluation: judge samples with iverilog in the sandbox, report pass@k.

Entry point: `runner.evaluate(problems, samples, ks=..., workers=..., cache_path=...)`
with problems from `problems.load_problems(directory)`.
"""
