"""Supervised tuning of the base model: instruction pairs (loss on the answer only) mixed with raw
Verilog (continued pretraining), through a peft LoRA adapter on every linear layer."""
