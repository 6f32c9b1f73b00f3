"""Markdown tables and PNG plots of a speed comparison."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Mapping

from verifrag.evaluation.speed import MethodSummary

LABELS = {
    "hf_greedy": "transformers generate (greedy)",
    "ntp": "VeriFrag next-token",
    "ntp_transformers": "VeriFrag next-token, transformers forward",
    "medusa": "Medusa",
    "medusa_frag": "Medusa + fragment snapping",
    "hybrid": "hybrid (Medusa + prompt lookup) + fragment snapping",
    "prompt_lookup": "prompt lookup decoding",
    "assisted": "assisted generation",
    "llama_cpp": "llama.cpp greedy (GGUF as shipped)",
    "llama_cpp_lookup": "llama.cpp prompt lookup (GGUF as shipped)",
}
# Peers that run other weights (the GGUF without our adapter): their tokens are not compared with ours.
UNCOMPARED = ("llama_cpp", "llama_cpp_lookup")


def speed_table(summaries: Mapping[str, MethodSummary], identical: Mapping[str, int], prompts: int) -> str:
    baseline = _baseline(summaries)
    base = baseline.median if baseline else 0.0
    rows = [
        "| method | tokens/s median (min-max) | x baseline | mean accepted / step | per-head acceptance | fragment discards | greedy output matches next-token* |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, s in summaries.items():
        heads = ", ".join(f"{a:.2f}" for a in s.per_head_acceptance) if name in ("medusa", "medusa_frag", "hybrid") else "-"
        discards = f"{s.frag_discarded} ({s.frag_discarded / max(1, s.tokens + s.frag_discarded):.1%})" if name in ("medusa_frag", "hybrid") else "-"
        rows.append(
            f"| {LABELS.get(name, name)} | {s.median:.2f} ({min(s.tokens_per_s):.2f}-{max(s.tokens_per_s):.2f}) | "
            f"{s.median / base if base else 0:.2f} | {s.mean_accepted:.2f} | {heads} | {discards} | "
            f"{'-' if name in UNCOMPARED else f'{identical.get(name, 0)}/{prompts}'} |"
        )
    rows.append("")
    rows.append("*equal token for token; with fragment snapping, a prefix of it (the last fragment is trimmed at the token limit)")
    if any(name in UNCOMPARED for name in summaries):
        rows.append("")
        rows.append("llama.cpp runs the base's GGUF file as shipped (no LoRA adapter, its own quantisation), so its "
                    "tokens differ from ours; its rows compare speed on the same architecture, prompts and budget.")
    if "hybrid" in summaries and summaries["hybrid"].branch_wins:
        wins = summaries["hybrid"].branch_wins
        rows.append("")
        rows.append("Hybrid steps by the branch their kept tokens came from: "
                    + ", ".join(f"{branch} {wins.get(branch, 0)}" for branch in ("root", "medusa", "lookup")))
    return "\n".join(rows)


def tree_cost_table(costs: Mapping[int, float]) -> str:
    single = costs.get(0) or next(iter(costs.values()))
    rows = ["| tree nodes | verification pass (ms, median) | cost / single-token step |", "| --- | --- | --- |"]
    for size, seconds in costs.items():
        label = "0 (plain next-token step)" if size == 0 else str(size)
        rows.append(f"| {label} | {seconds * 1000:.1f} | {seconds / single:.2f} |")
    return "\n".join(rows)


def _baseline(summaries: Mapping[str, MethodSummary]) -> MethodSummary | None:
    """What ratios are taken against: transformers greedy when it ran, else our next-token decoder."""
    return summaries.get("hf_greedy") or summaries.get("ntp")


def _save(figure, path: Path) -> Path:
    import matplotlib.pyplot as plt

    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def plot(summaries: Mapping[str, MethodSummary], out_dir: Path) -> list[Path]:
    """Three PNGs: speed-up per method, accepted length per step, per-head acceptance."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    baseline = _baseline(summaries)
    names = list(summaries)
    figure, axis = plt.subplots(figsize=(7, 3.5))
    axis.bar([LABELS.get(n, n) for n in names], [summaries[n].median / baseline.median for n in names])
    axis.axhline(1.0, color="grey", linewidth=0.8)
    axis.set_ylabel("speed-up over baseline")
    axis.tick_params(axis="x", rotation=20, labelsize=8)
    written.append(_save(figure, out_dir / "speedup.png"))

    medusa = [n for n in names if n.startswith("medusa")]
    if medusa:
        figure, axis = plt.subplots(figsize=(6, 3.5))
        for name in medusa:
            counts = Counter(summaries[name].accepted_per_step)
            lengths = sorted(counts)
            total = sum(counts.values())
            axis.plot(lengths, [counts[k] / total for k in lengths], marker="o", label=LABELS[name])
        axis.set_xlabel("tokens committed per step")
        axis.set_ylabel("share of steps")
        axis.legend()
        written.append(_save(figure, out_dir / "accepted_length.png"))

        figure, axis = plt.subplots(figsize=(6, 3.5))
        width = 0.8 / len(medusa)
        for offset, name in enumerate(medusa):
            rates = summaries[name].per_head_acceptance
            axis.bar([k + 1 + offset * width for k in range(len(rates))], rates, width=width, label=LABELS[name])
        axis.set_xlabel("head")
        axis.set_ylabel("share of steps its token was kept")
        axis.legend()
        written.append(_save(figure, out_dir / "head_acceptance.png"))
    return written
