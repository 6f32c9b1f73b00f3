"""Corpus v1/v2: pythondata sources -> modules -> syntax, dedup and decontamination filters -> split jsonl."""
