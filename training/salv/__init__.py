"""SALV: rollouts, signal-aware verification, pairs and signal-level DPO."""
