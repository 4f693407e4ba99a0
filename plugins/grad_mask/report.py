"""Report writer: the m-sweep plot and the per-module breakdown of where the mask sits.

Reads only the leaderboard table and the cell files, so ``tom-harness table OUT`` rebuilds it.

* ``grad_mask_sweep.png`` (+ ``.csv`` of the plotted points): ToM accuracy and perplexity against m,
  one line per task and condition (Fisher mask, random control: mean over control seeds with
  min-max bars); the ``none`` row is drawn at m = 0 of every line.
* ``grad_mask_modules.{csv,md}``: per intervention row and projection role, how many weights the
  mask holds, their share, how many layers, and their magnitude against the matrix average (the
  paper finds the mask concentrated, and large, in W_Q and W_K);
  ``grad_mask_modules_by_layer.csv``: the same per layer.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from .targets import role_rank

NAME = "grad_mask"
#: acc_fb_mean: the false-belief summary some tasks report (mean of contents and transfer)
ACC_METRICS = ("acc_fb_mean", "acc", "exact_match", "accuracy", "acc_norm", "percent_correct", "f1")
PPL_METRICS = ("word_perplexity", "perplexity", "token_perplexity", "byte_perplexity")
SERIES_IGNORE = ("m", "control_seed")


def _name(label: Any) -> str:
    return str(label).split(":", 1)[0]


def _is_ppl(rows: pd.DataFrame) -> bool:
    """A task is plotted as perplexity when it reports a perplexity metric, else as accuracy
    (the table names no benchmark: what a task measures shows in its metrics)."""
    return any(m in PPL_METRICS for m in rows["metric"].dropna().astype(str).unique())


def _pick_metric(rows: pd.DataFrame, preferred: tuple[str, ...], fallback: str | None) -> str | None:
    metrics = [m for m in rows["metric"].dropna().unique() if "stderr" not in str(m)]
    for m in preferred:
        if m in metrics:
            return m
    if fallback is not None:
        hits = [m for m in metrics if fallback in str(m)]
        return hits[0] if hits else None
    return None


def _aggregate(rows: pd.DataFrame, task: str) -> pd.DataFrame:
    """Prefer the task's own aggregate row (else average its subtasks), filter ``none`` if present."""
    filt = rows["filter"].fillna("none").astype(str)
    if (filt == "none").any():
        rows = rows[filt == "none"]
    sub = rows["subtask"].fillna("").astype(str)
    own = rows[(sub == task) | (sub == "")]
    return own if not own.empty else rows


def _params(value: Any) -> dict:
    """The table stores params as a JSON string; cells as a dict."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def _series_name(params: dict, defaults: dict) -> str:
    """'Fisher mask' or 'random control', plus any non-default setting other than m and seed."""
    kind = "random control" if params.get("control") == "random" else "Fisher mask"
    extra = [f"{k}={v}" for k, v in sorted(params.items()) if k not in SERIES_IGNORE + ("control",)
             and v != defaults.get(k)]
    return kind + (f" ({', '.join(extra)})" if extra else "")


def sweep_points(table: pd.DataFrame) -> pd.DataFrame:
    """Long table of plotted points: measure (tom|ppl), task, metric, series, m, value, n_rows."""
    from .intervention import GradMask

    defaults = {p.name: p.default for p in GradMask.params}
    if table is None or table.empty:
        return pd.DataFrame()
    ok = table[table["status"] == "ok"].copy()
    ok["_name"] = ok["intervention"].map(_name)
    ours = ok[ok["_name"] == NAME]
    if ours.empty:
        return pd.DataFrame()
    base = ok[ok["_name"] == "none"]
    points = []
    for task, task_rows in pd.concat([ours, base]).groupby("task"):
        task = str(task)
        if not _is_ppl(task_rows):
            measure, metric = "tom", _pick_metric(task_rows, ACC_METRICS, "acc")
        else:
            measure, metric = "ppl", _pick_metric(task_rows, PPL_METRICS, "perplexity")
        if metric is None:
            continue
        rows = _aggregate(task_rows[task_rows["metric"] == metric], task)
        per_row = rows.groupby("intervention_id").agg(value=("value", "mean"), label=("_name", "first"),
                                                      params=("params", "first"))
        base_vals = per_row[per_row["label"] == "none"]["value"]
        series: dict[str, list[tuple[float, float]]] = {}
        for _iid, r in per_row[per_row["label"] == NAME].iterrows():
            p = _params(r["params"])
            series.setdefault(_series_name(p, defaults), []).append((float(p.get("m", 0.0)), float(r["value"])))
        for sname, vals in series.items():
            if not base_vals.empty:
                vals = vals + [(0.0, float(base_vals.mean()))] if all(m != 0.0 for m, _ in vals) else vals
            df = pd.DataFrame(vals, columns=["m", "value"])
            for m, g in df.groupby("m"):
                points.append({"measure": measure, "task": task, "metric": metric, "series": sname, "m": m,
                               "value": g["value"].mean(), "min": g["value"].min(), "max": g["value"].max(),
                               "n_rows": len(g)})
    return pd.DataFrame(points)


def plot_sweep(points: pd.DataFrame, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    measures = [m for m in ("tom", "ppl") if m in set(points["measure"])]
    fig, axes = plt.subplots(1, len(measures), figsize=(6.2 * len(measures), 4.2), squeeze=False)
    titles = {"tom": "ToM accuracy", "ppl": "Perplexity"}
    for ax, measure in zip(axes[0], measures):
        sub = points[points["measure"] == measure]
        for (task, metric, series), g in sub.groupby(["task", "metric", "series"]):
            g = g.sort_values("m")
            style = "--" if series.startswith("random") else "-"
            err = [g["value"] - g["min"], g["max"] - g["value"]]
            ax.errorbar(g["m"], g["value"], yerr=err if (g["n_rows"] > 1).any() else None,
                        fmt="o" + style, capsize=3, label=f"{task} [{metric}] {series}")
        ax.set_xlabel("m (fraction of each matrix ranked)")
        ax.set_ylabel(titles[measure])
        ax.set_title(f"{titles[measure]} vs m")
        ax.ticklabel_format(axis="x", style="sci", scilimits=(0, 0))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def module_tables(cells: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-role and per-(layer, role) counts of the mask, one block per grad_mask row."""
    seen: set[str] = set()
    roles, layers = [], []
    for cell in cells:
        iv = cell.get("intervention") or {}
        meta = cell.get("metadata") or {}
        if iv.get("name") != NAME or iv.get("id") in seen or "weights_perturbed_by_role" not in meta:
            continue
        seen.add(iv.get("id"))
        params = iv.get("params") or {}
        total = meta.get("weights_perturbed", 0)
        by_layer = meta.get("weights_perturbed_by_layer", {})
        magnitude = meta.get("magnitude_by_role", {})
        head = {"intervention": iv.get("label"), "m": params.get("m"), "control": params.get("control", "none")}
        for role, n in sorted(meta["weights_perturbed_by_role"].items(), key=lambda kv: role_rank(kv[0])):
            counts = {int(l): v.get(role, 0) for l, v in by_layer.items()}
            held = sorted((l for l, c in counts.items() if c), key=lambda l: (-counts[l], l))
            mag = magnitude.get(role, {})
            sel, mat = mag.get("mean_abs_selected"), mag.get("mean_abs_matrix")
            roles.append({**head, "role": role, "weights": n, "share": n / total if total else math.nan,
                          "layers_with_mask": len(held), "top_layers": ",".join(str(l) for l in held[:5]),
                          "mean_abs_selected": sel, "mean_abs_matrix": mat,
                          "magnitude_ratio": sel / mat if sel is not None and mat else math.nan})
            for layer, c in sorted(counts.items()):
                layers.append({**head, "layer": layer, "role": role, "weights": c})
    return pd.DataFrame(roles), pd.DataFrame(layers)


def _markdown(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, r in df.iterrows():
        cells = [f"{v:.4g}" if isinstance(v, float) and not math.isnan(v) else ("" if isinstance(v, float) else str(v))
                 for v in (r[c] for c in cols)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_reports(output_dir: Path, table: pd.DataFrame, cells: list[dict]) -> list[Path]:
    """The registered writer: whatever applies to this run (nothing when grad_mask did not run)."""
    output_dir = Path(output_dir)
    written: list[Path] = []
    points = sweep_points(table)
    if not points.empty:
        points.to_csv(output_dir / "grad_mask_sweep.csv", index=False)
        written += [output_dir / "grad_mask_sweep.csv", plot_sweep(points, output_dir / "grad_mask_sweep.png")]
    roles, layers = module_tables(cells)
    if not roles.empty:
        roles.to_csv(output_dir / "grad_mask_modules.csv", index=False)
        (output_dir / "grad_mask_modules.md").write_text(
            "# Where the grad_mask sits, per projection role\n\n" + _markdown(roles), encoding="utf-8")
        layers.to_csv(output_dir / "grad_mask_modules_by_layer.csv", index=False)
        written += [output_dir / f for f in ("grad_mask_modules.csv", "grad_mask_modules.md",
                                             "grad_mask_modules_by_layer.csv")]
    return written
