"""VeriFrag: a syntax-aware Verilog coding assistant."""

__version__ = "0.1.0"
