"""Paired tests for every ``delta_vs_none`` of the tidy table, from the cells' per-item files.

Items of the row and of the baseline are matched by (subtask, doc id) and must have the same
document hash. A group row (e.g. ``tomi`` over five seed files) pools its subtasks' items and
tests the group's own statistic; its ``delta_seed_std`` is the population std of the per-seed
deltas. ``p_adjusted`` is Holm over a stated family (``p_family``): ``headline`` = the headline
cell of every (intervention, task) of the matrix; ``metric`` = the intervention rows of one
(task, subtask, metric, filter). Cells without an items file (older runs) get no test. A task that
declares ``paired_ttest: true`` also gets the published paired t-test as twin rows
(:mod:`tom_harness.results.published_ttest`).
"""
from __future__ import annotations

import math
from typing import Iterable

import numpy as np
import pandas as pd

from tom_harness.results import stats
from tom_harness.results.items import Items, items_of
from tom_harness.results.published_ttest import add_published_ttests

TEST_COLUMNS = ["p_value", "p_adjusted", "delta_ci95_low", "delta_ci95_high", "test", "n_pairs",
                "delta_seed_std", "p_family"]


def leaf_subtasks(name: str, results: dict, item_subtasks: list[str]) -> list[str]:
    """The item subtasks behind a results entry (itself, or a group's, recursively)."""
    if name in item_subtasks:
        return [name]
    out: list[str] = []
    for sub in (results.get("group_subtasks") or {}).get(name) or []:
        out += leaf_subtasks(sub, results, item_subtasks)
    if not out and len(item_subtasks) == 1 and name == results.get("_task"):
        out = list(item_subtasks)
    return out


def paired_vectors(base: Items, other: Items, metric: str, filt: str, subtasks: list[str]):
    """Aligned (a, b, weights, strata) arrays of the items both rows scored, same doc hash."""
    va, vb = base.values(metric, filt, subtasks), other.values(metric, filt, subtasks)
    keys = sorted(k for k in set(va) & set(vb) if va[k][0] == vb[k][0])
    a, b, w = [], [], []
    for k in keys:
        x, y = va[k][1], vb[k][1]
        if isinstance(x, list) and isinstance(y, list) and len(x) >= 2:
            a.append(float(x[0])), b.append(float(y[0])), w.append(float(x[1]))
        elif isinstance(x, (int, float)) and isinstance(y, (int, float)):
            a.append(float(x)), b.append(float(y)), w.append(1.0)
        else:
            return None
    return np.asarray(a), np.asarray(b), np.asarray(w), [k[0] for k in keys]


def _row_test(row: pd.Series, cell: dict, base: Items, other: Items) -> dict:
    results = {**(cell.get("results") or {}), "_task": cell["task"]}
    subs = leaf_subtasks(row["subtask"], results, other.subtasks())
    if not subs:
        return {"test": "no items for this subtask"}
    aggs = {other.aggregation(s, row["metric"]) for s in subs}
    agg = aggs.pop() if len(aggs) == 1 else None
    if not stats.testable(agg):
        return {"test": f"no per-item test for aggregation {agg or 'mixed'!s}"}
    vec = paired_vectors(base, other, row["metric"], row["filter"], subs)
    if vec is None or len(vec[0]) == 0:
        return {"test": "no matched items"}
    a, b, w, strata = vec
    seed = stats.seed_for(row["model"], row["intervention_id"], row["task"], row["subtask"], row["metric"], row["filter"])
    res = stats.paired_test(a, b, agg, weights=w, strata=strata if len(subs) > 1 else None, seed=seed)
    return {"p_value": res.p_value, "delta_ci95_low": res.ci_low, "delta_ci95_high": res.ci_high,
            "test": res.test, "n_pairs": res.n}


def _seed_std(table: pd.DataFrame, i: int, cell: dict) -> float:
    """Population std of the per-seed-file deltas behind a seed-group row."""
    row = table.loc[i]
    subs = (cell.get("results") or {}).get("group_subtasks", {}).get(row["subtask"]) or []
    if len(subs) < 2 or pd.isna(row["std"]):
        return math.nan
    sel = table[(table["model"] == row["model"]) & (table["intervention_id"] == row["intervention_id"])
                & (table["task"] == row["task"]) & table["subtask"].isin(subs)
                & (table["metric"] == row["metric"]) & (table["filter"] == row["filter"])]
    deltas = sel["delta_vs_none"].dropna().to_numpy(dtype=float)
    return float(np.std(deltas)) if len(deltas) == len(subs) else math.nan


def attach_tests(table: pd.DataFrame, cells: Iterable[dict], headline: dict[str, str | None],
                 loaded: dict[tuple, Items | None] | None = None) -> pd.DataFrame:
    """Fill the test columns of ``table`` (rows against their ``none`` row of the same model);
    ``loaded``: items already read, by (model, intervention id, task)."""
    by_id = {(str(c.get("model")), c["intervention"]["id"], c["task"]): c for c in cells if c.get("status") == "ok"}
    base_ids = {(m, t): iv for (m, iv, t), c in by_id.items() if c["intervention"]["label"] == "none"}
    loaded = dict(loaded or {})

    def items(key: tuple) -> Items | None:
        if key not in loaded:
            loaded[key] = items_of(by_id[key]) if key in by_id else None
        return loaded[key]

    table = table.copy()
    for col in TEST_COLUMNS:
        table[col] = pd.Series([None] * len(table), dtype=object) if col in ("test", "p_family") else math.nan
    todo = table[(table["status"] == "ok") & (table["intervention"] != "none") & table["delta_vs_none"].notna()]
    for i, row in todo.iterrows():
        key = (str(row["model"]), row["intervention_id"], row["task"])
        base_key = (key[0], base_ids.get((key[0], row["task"]), ""), row["task"])
        other, base = items(key), items(base_key)
        if other is None or base is None:
            table.at[i, "test"] = "no per-item file"
            continue
        for col, val in _row_test(row, by_id[key], base, other).items():
            table.at[i, col] = val
        table.at[i, "delta_seed_std"] = _seed_std(table, i, by_id[key])
    table["n_pairs"] = table["n_pairs"].astype("Int64")

    def vectors(row: pd.Series):
        key = (str(row["model"]), row["intervention_id"], row["task"])
        other, base = items(key), items((key[0], base_ids.get((key[0], row["task"]), ""), row["task"]))
        if other is None or base is None:
            return None
        subs = leaf_subtasks(row["subtask"], {**(by_id[key].get("results") or {}), "_task": row["task"]}, other.subtasks())
        return paired_vectors(base, other, row["metric"], row["filter"], subs) if subs else None

    return add_published_ttests(_adjust(table, headline), by_id, vectors, headline)


def _adjust(table: pd.DataFrame, headline: dict[str, str | None]) -> pd.DataFrame:
    """Holm-adjusted p-values within each stated family."""
    tested = table["p_value"].notna()
    is_head = (table["subtask"] == table["task"]) & (table["metric"] == table["task"].map(headline))
    table.loc[tested & is_head, "p_family"] = "headline"
    table.loc[tested & ~is_head, "p_family"] = "metric"
    fam = table[tested]
    if fam.empty:
        return table
    keys = [str(r["model"]) if r["p_family"] == "headline" else "|".join(str(r[c]) for c in ("model", "task", "subtask", "metric", "filter"))
            for _, r in fam.iterrows()]
    for _, idx in fam.groupby(pd.Series(keys, index=fam.index)).groups.items():
        table.loc[idx, "p_adjusted"] = stats.adjust(table.loc[idx, "p_value"].tolist())
    return table
