"""The tidy leaderboard frame, built from cell files alone (so ``tom-harness table`` can rebuild
or merge shards): one row per (intervention, task, subtask, metric, filter), deltas against
``none``, replicate summaries, and the paired tests of :mod:`tom_harness.results.paired_tests`.

Rows of an intervention that differ only in a replicate parameter (e.g. random seeds) also get a
summary row: mean over draws with a 95 % t-interval.
"""
from __future__ import annotations

import json
import math
from typing import Any, Iterable

import pandas as pd

from tom_harness.results.items import Items, items_of
from tom_harness.results.paired_tests import TEST_COLUMNS, attach_tests, leaf_subtasks
from tom_harness.results.row_names import display_labels

COLUMNS = [
    "model", "intervention", "intervention_id", "group_label", "kind", "params", "task", "subtask",
    "metric", "filter", "value", "stderr", "std", "n", "delta_vs_none", "ci95_low", "ci95_high", "draws",
    "status", "model_calls", "generated_tokens", "protocol", *TEST_COLUMNS,
]
_SKIP_KEYS = {"alias", "name", "sample_len", "sample_count", "samples", "n_seeds"}
#: preferred headline metric per task, first match wins
HEADLINE_ORDER = ("acc", "exact_match", "word_perplexity", "acc_norm", "f1", "score")


def _num(v: Any) -> float | None:
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, (int, float)) and not (isinstance(v, float) and math.isnan(v)):
        return float(v)
    return None


def _effective_n(results: dict, name: str) -> int | None:
    """Items behind a results entry: lm-eval's effective count, summed over a group's subtasks."""
    n_samples = results.get("n-samples", {})
    if name in n_samples:
        return (n_samples.get(name) or {}).get("effective")
    subs = (results.get("group_subtasks") or {}).get(name) or []
    counts = [_effective_n(results, s) for s in subs]
    return int(sum(counts)) if counts and all(c is not None for c in counts) else None


def metric_count(items: Items | None, cell: dict, name: str, metric: str, filt: str) -> int | None:
    """Items behind one metric of a results entry: the items that have a value for it (a
    per-type metric such as ``acc_first_order`` has fewer than the task), summed over a group's
    subtasks; None without an items file."""
    if items is None:
        return None
    subs = leaf_subtasks(name, {**(cell.get("results") or {}), "_task": cell["task"]}, items.subtasks())
    return len(items.values(metric, filt, subs)) if subs else None


def cell_rows(cell: dict, names: dict[str, str] | None = None, items: Items | None = None) -> list[dict]:
    """Tidy rows of one cell; ``names`` maps labels to display labels (:mod:`.row_names`),
    ``items`` are the cell's per-item records (each metric's ``n`` is counted from them)."""
    iv = cell["intervention"]
    meta = cell.get("metadata") or {}
    names = names or {}
    group = iv.get("group_label", iv["label"])
    base = {
        "model": cell.get("model"), "intervention": names.get(iv["label"], iv["label"]), "intervention_id": iv["id"],
        "group_label": names.get(group, group), "kind": iv["kind"],
        "params": json.dumps(iv.get("params", {}), sort_keys=True, default=str), "task": cell["task"],
        "status": cell.get("status", "ok"), "protocol": cell.get("protocol") or "",
        "model_calls": sum(v for k, v in (meta.get("requests") or {}).items() if k in ("loglikelihood", "generate_until", "loglikelihood_rolling"))
        + (meta.get("caller") or {}).get("calls", 0),
        "generated_tokens": (meta.get("requests") or {}).get("generated_tokens", 0) + (meta.get("caller") or {}).get("generated_tokens", 0),
    }
    if cell.get("status") != "ok" or not cell.get("results"):
        return [{**base, "subtask": cell["task"], "metric": "", "filter": "", "value": None}]
    results = cell["results"]
    res = results.get("results", {})
    order = [cell["task"]] + [k for k in res if k != cell["task"]]
    rows = []
    for name in order:
        entry = res.get(name) or results.get("groups", {}).get(name)
        if not entry:
            continue
        n = _effective_n(results, name) or entry.get("sample_len") or entry.get("sample_count")
        for key, value in entry.items():
            if key in _SKIP_KEYS or "_stderr," in key or "_seed_std," in key:
                continue
            metric, _, filt = key.partition(",")
            val = _num(value)
            if val is None:
                continue
            stderr = _num(entry.get(f"{metric}_stderr,{filt}"))
            count = metric_count(items, cell, name, metric, filt or "none")
            rows.append({**base, "subtask": name, "metric": metric, "filter": filt or "none",
                         "value": val, "stderr": stderr, "std": _num(entry.get(f"{metric}_seed_std,{filt}")),
                         "n": count if count is not None else n})
    return rows


def _t975(df: int) -> float:
    from scipy import stats

    return float(stats.t.ppf(0.975, df))


def replicate_summaries(table: pd.DataFrame) -> pd.DataFrame:
    """Mean and 95 % interval over rows that are draws of one condition."""
    cand = table[(table["status"] == "ok") & (table["group_label"] != table["intervention"])]
    out = []
    for key, grp in cand.groupby(["model", "group_label", "task", "subtask", "metric", "filter"], dropna=False):
        k = grp["intervention"].nunique()
        if k < 2:
            continue
        vals = grp["value"].astype(float)
        mean, sd = float(vals.mean()), float(vals.std(ddof=1))
        half = _t975(k - 1) * sd / math.sqrt(k)
        first = grp.iloc[0]
        out.append({
            **{c: first[c] for c in ("model", "group_label", "kind", "task", "subtask", "metric", "filter")},
            "intervention": f"{key[1]} [mean of {k}]", "intervention_id": first["intervention_id"] + "__summary",
            "params": first["params"], "value": mean, "stderr": sd / math.sqrt(k), "n": first["n"],
            "ci95_low": mean - half, "ci95_high": mean + half, "draws": k, "status": "summary",
            "model_calls": int(grp["model_calls"].sum()), "generated_tokens": int(grp["generated_tokens"].sum()),
        })
    return pd.DataFrame(out, columns=COLUMNS)


def headline_metric(rows: pd.DataFrame, preferred: str | None = None) -> str | None:
    """The metric a task is summarised by: the task's own choice (YAML ``metadata.headline``),
    else the first of HEADLINE_ORDER present, else the first one."""
    metrics = [m for m in rows["metric"].tolist() if m]
    if preferred in metrics:
        return preferred
    for name in HEADLINE_ORDER:
        if name in metrics:
            return name
    return metrics[0] if metrics else None


def headline_metrics(table: pd.DataFrame, preferred: dict[str, str] | None = None) -> dict[str, str | None]:
    """Task -> the metric its headline column shows."""
    top = table[(table["subtask"] == table["task"]) & table["value"].notna()]
    return {task: headline_metric(rows, (preferred or {}).get(task)) for task, rows in top.groupby("task", sort=False)}


def preferred_metrics(cells: Iterable[dict]) -> dict[str, str]:
    """Task -> headline metric declared by the task (recorded in its cells)."""
    return {c["task"]: c["headline_metric"] for c in cells if c.get("headline_metric")}


def build_table(cells: Iterable[dict], specs: Iterable[str] = ()) -> pd.DataFrame:
    """The tidy leaderboard (deltas against ``none``, replicate summaries, paired tests); rows
    named by display label (``specs``: the matrix's spec strings, see :mod:`.row_names`)."""
    kept: list[dict] = []
    seen: set[tuple[str, str, str]] = set()
    for cell in cells:
        ident = (str(cell.get("model")), cell["intervention"]["id"], cell["task"])
        if ident in seen:  # the same cell in two merged shards
            continue
        seen.add(ident)
        kept.append(cell)
    names = display_labels(kept, specs)
    items = {(str(c.get("model")), c["intervention"]["id"], c["task"]): items_of(c) if c.get("status") == "ok" else None
             for c in kept}
    rows = [r for c in kept for r in cell_rows(c, names, items[(str(c.get("model")), c["intervention"]["id"], c["task"])])]
    table = pd.DataFrame(rows, columns=COLUMNS)
    if table.empty:
        return table
    summaries = replicate_summaries(table)
    if not summaries.empty:
        table = pd.concat([table, summaries], ignore_index=True)
    keys = ["model", "task", "subtask", "metric", "filter"]
    base = table[(table["intervention"] == "none") & (table["status"] == "ok")][keys + ["value"]]
    base = base.drop_duplicates(keys).rename(columns={"value": "_base"})
    table = table.drop(columns=["delta_vs_none"]).merge(base, on=keys, how="left")
    table["delta_vs_none"] = table["value"] - table["_base"]
    table = table.drop(columns=["_base"])[COLUMNS]
    return attach_tests(table, kept, headline_metrics(table, preferred_metrics(kept)), items)
