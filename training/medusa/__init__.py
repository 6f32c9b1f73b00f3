"""Medusa-1/-2 head training: data windows, cached hidden states, objective, evaluation, trainer, CLI."""
