"""Built-in benchmark plugin: registers the ``task_yamls`` folder (ToMi, Hi-ToM, FANToM,
sparse-ToM, WikiText-2, Moghaddam & Honey and the generated tomi_gen / hitom_gen) as an lm-eval
task source, the seed std and the condition contrast (belief minus photo) as result processors
(in ``tom-harness run`` and in lm-eval with ``--model tomh``),
and the accuracy-by-ToM-order plot as a report writer."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from tom_harness import hookimpl
from tom_harness.task_yamls.helpers import TASK_DIR, seed_summary


@hookimpl
def register_task_sources(register):
    register(TASK_DIR)


def add_seed_spread(results: dict, task: Any = None) -> None:
    """Add the population std across seed subtasks to each seed group's results
    (lm-eval groups can only average; the papers report mean ± std over seed files)."""
    for group, stats in seed_summary(results).items():
        entry = results.setdefault("results", {}).setdefault(group, {})
        for key, value in stats.items():
            entry.setdefault(key, value)


def add_condition_contrast(results: dict, task: Any = None) -> None:
    """``<target>_minus_<control>`` in each group whose subtask declares ``control_of: <target>``
    next to a subtask that declares ``condition: <target>`` (e.g. ``belief_minus_photo`` in
    ``mh_tom``): the difference of their headline metric, per filter."""
    configs, per_task = results.get("configs") or {}, results.get("results") or {}
    meta = {sub: (cfg.get("metadata") or {}) for sub, cfg in configs.items()}
    for group, subs in (results.get("group_subtasks") or {}).items():
        by_condition = {meta.get(s, {}).get("condition"): s for s in subs if meta.get(s, {}).get("condition")}
        for control in subs:
            target = by_condition.get(meta.get(control, {}).get("control_of"))
            if target is None:
                continue
            metric = meta[target].get("headline", "acc")
            name = f"{meta[target]['condition']}_minus_{meta[control]['condition']}"
            for key, value in (per_task.get(target) or {}).items():
                m, _, filt = key.partition(",")
                other = (per_task.get(control) or {}).get(key)
                if m == metric and isinstance(value, (int, float)) and isinstance(other, (int, float)):
                    results.setdefault("results", {}).setdefault(group, {})[f"{name},{filt}"] = value - other


@hookimpl
def register_result_processors(register):
    register("seed_std", add_seed_spread)
    register("condition_contrast", add_condition_contrast)


def plot_accuracy_by_order(output_dir: Path, table: pd.DataFrame, cells: list[dict]) -> list[Path]:
    """``tom_order.png``: accuracy against ToM order (HiToM's ``acc_order0..4``), one line per
    intervention and task, from each task's own (group-level) row. Nothing when no task has orders."""
    if table.empty:
        return []
    rows = table[(table["subtask"] == table["task"]) & table["metric"].astype(str).str.fullmatch(r"acc_order\d+")]
    rows = rows[rows["value"].notna() & rows["status"].isin(["ok", "summary"])]
    if rows.empty:
        return []
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    tasks = rows["task"].unique()
    for (task, iv), grp in rows.groupby(["task", "intervention"], sort=False):
        grp = grp.assign(order=grp["metric"].str.extract(r"(\d+)$")[0].astype(int)).sort_values("order")
        label = iv if len(tasks) == 1 else f"{iv} ({task})"
        ax.errorbar(grp["order"], grp["value"], yerr=grp["std"].where(grp["std"].notna(), grp["stderr"]),
                    marker="o", capsize=3, label=label)
    ax.set_xlabel("ToM order")
    ax.set_ylabel("accuracy")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xticks(sorted(rows["metric"].str.extract(r"(\d+)$")[0].astype(int).unique()))
    ax.set_title("Accuracy by ToM order")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = Path(output_dir) / "tom_order.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return [path]


@hookimpl
def register_report_writers(register):
    register("tom_order", plot_accuracy_by_order)
