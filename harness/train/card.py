"""The adapter card: what an adapter was trained from and how, beside its weights.

``adapter_card.json`` (read back by the ``adapter`` row's contamination check and by people),
``README.md`` (the same, for reading) and ``loss.png`` (the training loss per step, matplotlib).
"""
from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path
from typing import Any

from tom_harness.api.training import ADAPTER_CARD

LIBRARIES = ("tom-harness", "trl", "peft", "transformers", "torch", "datasets", "accelerate", "lm_eval")


def versions() -> dict[str, str]:
    """Installed versions of the libraries that shape an adapter."""
    out = {}
    for name in LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = ""
    return out


def losses(history: list[dict]) -> list[tuple[int, float]]:
    """(step, loss) of every logged training step."""
    return [(int(h["step"]), float(h["loss"])) for h in history if "loss" in h and "step" in h]


def plot_loss(points: list[tuple[int, float]], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3), dpi=100)
    if points:
        ax.plot([s for s, _ in points], [v for _, v in points], marker="o", markersize=3)
    ax.set_xlabel("step")
    ax.set_ylabel("training loss")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)


def write_card(folder: Path, card: dict[str, Any], history: list[dict]) -> None:
    """Write adapter_card.json, README.md and loss.png into ``folder``."""
    points = losses(history)
    card = {**card, "loss_curve": [{"step": s, "loss": v} for s, v in points]}
    (folder / ADAPTER_CARD).write_text(json.dumps(card, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    plot_loss(points, folder / "loss.png", f"{card['recipe']['method']} on {Path(card['data']['path']).name}")
    (folder / "README.md").write_text(readme(card), encoding="utf-8")


def readme(card: dict[str, Any]) -> str:
    base, data, recipe, run = card["base"], card["data"], card["recipe"], card["training"]
    items = data["items"]
    lines = [
        f"# LoRA adapter ({recipe['method'].upper()}) for {base['name']}",
        "",
        f"Trained with `tom-harness train {recipe['method']}`; evaluate it as a row: "
        f"`--interventions none adapter:path=<this folder>`.",
        "",
        "## Base model",
        f"- name: {base['name']} (backend {base['backend']})",
        f"- fingerprint (weights): `{base['fingerprint']}`",
        f"- model_args: `{json.dumps(base['model_args'], sort_keys=True)}`",
        "",
        "## Training data",
        f"- file: `{data['path']}` ({data['kind']}, {data['examples']} examples)",
        f"- sha256: `{data['sha256']}`",
        f"- from runs: {', '.join(data.get('runs') or ['(not recorded)'])}",
        f"- rows: {', '.join(data.get('rows') or ['(not recorded)'])}; tasks: {', '.join(data.get('tasks') or ['(not recorded)'])}",
        f"- {len(items)} training items, keys in adapter_card.json (`data.items`); the adapter row refuses "
        "to evaluate on these tasks unless allow_overlap=true",
        "",
        "## Recipe",
        *(f"- {k}: {v}" for k, v in recipe.items()),
        "",
        "## Run",
        f"- steps: {run['steps']}; wall {run['wall_s']:.1f} s, CPU {run['cpu_s']:.1f} s; device {run['device']}",
        f"- resumed from: {run['resumed_from'] or 'no checkpoint (trained from the start)'}",
        f"- final loss: {card['loss_curve'][-1]['loss'] if card['loss_curve'] else 'n/a'} (curve: loss.png)",
        f"- cache key: `{card['key']}`",
        "",
        "## Library versions",
        *(f"- {k}: {v}" for k, v in card["versions"].items()),
        "",
    ]
    return "\n".join(lines)
