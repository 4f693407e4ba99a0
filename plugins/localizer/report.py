"""Exports and plots: the t-map as a file, and per-layer heat maps for the leaderboard folder.

``prepare`` exports each t-map it uses to ``OUT/localizer/`` (safetensors with t, p, q and mean,
plus a JSON sidecar). The report writer, run after the leaderboard, draws

* ``localizer_units_per_layer.png``: per condition (random seeds averaged), the percentage of
  each layer's units that were lesioned, read from the cell files alone;
* ``localizer/<t-map>.png``: the t value of every unit, layers by hidden dimensions.
"""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .tmap import TMap

EXPORT_DIR = "localizer"


def export_tmap(output_dir: Path, tmap: "TMap", settings: dict[str, Any]) -> Path:
    """Write the t-map once per output folder; returns the safetensors path."""
    from safetensors.torch import save_file

    folder = Path(output_dir) / EXPORT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"tmap_{settings['network']}_{settings['stat']}_{settings['pooling']}_{tmap.key[:12]}"
    path = folder / f"{stem}.safetensors"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        save_file({k: v.contiguous() for k, v in tmap.tensors.items()}, str(tmp))
        tmp.replace(path)
        info = {"key": tmap.key, **settings, "n_pos": len(tmap.stimuli.positive),
                "n_neg": len(tmap.stimuli.negative), "stimuli_fingerprint": tmap.stimuli.fingerprint,
                "tensors": {k: list(v.shape) for k, v in tmap.tensors.items()}}
        path.with_suffix(".json").write_text(json.dumps(info, indent=1))
    return path


def _condition(label: str) -> str:
    """The row label without its seed, so random draws of one condition share a heat-map row."""
    name, _, rest = label.partition(":")
    kept = [p for p in rest.split(",") if p and not p.startswith("seeds=")]
    return name + (":" + ",".join(kept) if kept else "")


def selection_by_layer(cells: list[dict]) -> dict[str, list[float]]:
    """Mean percentage of each layer's units lesioned, per condition (seeds pooled)."""
    seen: set[str] = set()
    sums: dict[str, list[list[float]]] = defaultdict(list)
    for cell in cells:
        iv = cell.get("intervention", {})
        meta = cell.get("metadata", {})
        if iv.get("name") != "localizer" or iv.get("id") in seen or "units_per_layer" not in meta:
            continue
        seen.add(iv.get("id"))
        hidden = meta["hidden_size"]
        sums[_condition(str(iv.get("label", "localizer")))].append([100.0 * c / hidden for c in meta["units_per_layer"]])
    return {cond: [sum(col) / len(rows) for col in zip(*rows)] for cond, rows in sums.items()}


def _plot_selection(by_layer: dict[str, list[float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = sorted(by_layer)
    grid = [by_layer[k] for k in labels]
    fig, ax = plt.subplots(figsize=(max(6, 0.3 * len(grid[0]) + 3), 0.45 * len(labels) + 1.6))
    im = ax.imshow(grid, aspect="auto", cmap="viridis")
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.set_xlabel("layer")
    ax.set_title("localizer: % of each layer's units lesioned")
    fig.colorbar(im, ax=ax, label="% units")
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def plot_tmap(tensor_path: Path) -> Path:
    """Heat map (layers x hidden dims) of a t-map file; NaN units are shown blank."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from safetensors.torch import load_file

    t = load_file(str(tensor_path))["t"].float()
    finite = t[torch.isfinite(t)]
    vmax = float(finite.abs().max()) if finite.numel() else 1.0
    fig, ax = plt.subplots(figsize=(10, 0.18 * t.shape[0] + 1.8))
    im = ax.imshow(t.numpy(), aspect="auto", cmap="coolwarm", vmin=-vmax, vmax=vmax, interpolation="nearest")
    ax.set_xlabel("hidden dimension")
    ax.set_ylabel("layer")
    ax.set_title(tensor_path.stem)
    fig.colorbar(im, ax=ax, label="Welch t (positive - negative)")
    out = tensor_path.with_suffix(".png")
    fig.savefig(out, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return out


def write_reports(output_dir: Path, table: "pd.DataFrame", cells: list[dict]) -> list[Path]:
    """Report writer registered with the harness (signature fixed by the hookspec)."""
    output_dir = Path(output_dir)
    written: list[Path] = []
    by_layer = selection_by_layer(cells)
    if by_layer:
        path = output_dir / "localizer_units_per_layer.png"
        _plot_selection(by_layer, path)
        written.append(path)
    folder = output_dir / EXPORT_DIR
    if folder.is_dir():
        written.extend(plot_tmap(p) for p in sorted(folder.glob("tmap_*.safetensors")))
    return written
