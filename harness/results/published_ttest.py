"""The paired t-test some studies published, as extra leaderboard rows beside the harness's own test.

Moghaddam & Honey (2023) and the "Boosting ToM in small LLMs" reproduction compare each prompt
type with the base prompt by a paired t-test over the per-scenario counts of correct answers
(16 scenarios x 20 sampled answers). A task asks for it by declaring the trait
``paired_ttest: true``; then every tested row of the task's headline metric gets a twin row with
``test = ttest_rel (per-item, as published)``: ``scipy.stats.ttest_rel`` over the per-item values
(the per-scenario share of correct answers; a count is that share times the number of repeats,
and the t statistic does not change with the scale), a t-interval of the mean paired delta,
and ``p_family = as published (unadjusted)`` (it is not part of the Holm families).
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
import pandas as pd

TEST_NAME = "ttest_rel (per-item, as published)"
FAMILY = "as published (unadjusted)"


def declares_ttest(cell: dict) -> bool:
    """Whether the cell's task (any of its subtasks) declares ``paired_ttest: true``."""
    configs = (cell.get("results") or {}).get("configs") or {}
    return any(bool((cfg.get("metadata") or {}).get("paired_ttest")) for cfg in configs.values())


def ttest_rel(a: np.ndarray, b: np.ndarray) -> dict:
    """scipy's paired t-test of ``b`` against ``a`` with the t-interval of the mean delta."""
    from scipy import stats as sps

    n = len(a)
    if n < 2:
        return {"test": f"{TEST_NAME}: fewer than 2 pairs", "n_pairs": n}
    res = sps.ttest_rel(b, a)
    diff = b - a
    half = float(sps.t.ppf(0.975, n - 1) * diff.std(ddof=1) / math.sqrt(n))
    mean = float(diff.mean())
    return {"p_value": float(res.pvalue), "delta_ci95_low": mean - half, "delta_ci95_high": mean + half,
            "test": TEST_NAME, "n_pairs": n, "p_family": FAMILY}


def add_published_ttests(table: pd.DataFrame, cells: dict[tuple, dict], vectors: Callable[[pd.Series], tuple | None],
                         headline: dict[str, str | None]) -> pd.DataFrame:
    """Append a ttest_rel twin of every tested headline row whose task declares it.

    ``cells``: (model, intervention id, task) -> cell; ``vectors(row)``: the row's paired
    per-item arrays ``(base, other, ...)`` or None."""
    extra = []
    tested = table[table["test"].notna() & (table["metric"] == table["task"].map(headline))]
    for _, row in tested.iterrows():
        cell = cells.get((str(row["model"]), row["intervention_id"], row["task"]))
        if cell is None or not declares_ttest(cell):
            continue
        vec = vectors(row)
        if vec is None or len(vec[0]) == 0:
            continue
        twin = row.copy()
        for col in ("p_value", "p_adjusted", "delta_ci95_low", "delta_ci95_high", "delta_seed_std"):
            twin[col] = math.nan
        for col, val in ttest_rel(np.asarray(vec[0], float), np.asarray(vec[1], float)).items():
            twin[col] = val
        extra.append(twin)
    if not extra:
        return table
    out = pd.concat([table, pd.DataFrame(extra)], ignore_index=True)
    out["n_pairs"] = out["n_pairs"].astype("Int64")
    return out
