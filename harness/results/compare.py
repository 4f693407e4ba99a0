"""``tom-harness compare``: per-item agreement between two rows, from their items files.

Two rows of one run (``compare OUT --rows none sbs``), or the same rows of two runs
(``compare BIG SMALL --rows none``: a large model against a small fine-tuned one, as in Lore et
al.'s "46 % alignment"). For every task both sides ran, items are matched by (subtask, doc id)
with the same document hash, then compared on the parsed answer (k x k table) and on correctness
in the task's headline metric (2 x 2): % agreement, Cohen's kappa with its 95 % CI, and for
correctness the exact McNemar p-value.

Under ``--repeats N`` an item has N answers, so one is chosen per item: the answer is the most
frequent parsed answer of the N (ties: the one that came first), and correctness is the per-item
majority ``<metric>_majority`` (right when more than half of the repeats are), because the
per-item mean (e.g. 0.67) is not a 0/1 label kappa can use. The summary names the key it read.
 Writes ``compare.csv`` (summary), ``compare_tables.csv``
(every table, long form) and ``compare.md``. Tasks with answer distributions (``share_*``
metrics under --repeats) also get per-document distribution rows; three sides with
--base/--tuned/--teacher give the transfer report (:mod:`tom_harness.results.transfer`).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from tom_harness.results import stats
from tom_harness.results.outdir import atomic_write_text, iter_cells
from tom_harness.api.errors import UsageError, unknown
from tom_harness.results.items import Items, items_of
from tom_harness.results.row_names import RowIndex, manifest_specs
from tom_harness.results.table_build import HEADLINE_ORDER
from tom_harness.results.table_render import to_markdown
from tom_harness.results.transfer import shift_for_task, shift_markdown

MAX_SHOWN = 8  # categories per k x k table in the Markdown (the CSV has all)


@dataclass
class Side:
    name: str   # how the side is shown: "none" or "run_a/none"
    cell: dict
    items: Items


@dataclass
class Run:
    """The finished rows of one output directory: label -> task -> cell, and how to find a row."""

    root: Path
    rows: dict[str, dict[str, dict]]
    index: RowIndex

    def pick(self, name: str) -> tuple[str, dict[str, dict]]:
        """(label, cells by task) of the row ``name`` (label, id, display label or spec)."""
        label = self.index.find(name, str(self.root))
        return label, self.rows[label]


def _run(root: Path) -> Run:
    if not (root / "cells").is_dir():
        raise UsageError(f"{root} has no cells/ folder: not a tom-harness output directory")
    rows: dict[str, dict[str, dict]] = {}
    for c in iter_cells([root]):
        if c.get("status") == "ok":
            rows.setdefault(c["intervention"]["label"], {})[c["task"]] = c
    cells = [c for by_task in rows.values() for c in by_task.values()]
    return Run(root, rows, RowIndex(cells, manifest_specs([root])))


def cells_by_row(root: Path) -> dict[str, dict[str, dict]]:
    """Row label -> task -> cell of a run's finished rows; row ids are accepted as aliases."""
    rows = dict(_run(root).rows)
    for by_task in list(rows.values()):
        rows.setdefault(next(iter(by_task.values()))["intervention"]["id"], by_task)
    return rows


def pairs(runs: list[Path], row_names: list[str] | None) -> list[tuple[str, dict, str, dict]]:
    """(left name, left cells by task, right name, right cells by task) to compare."""
    if len(runs) == 1:
        run = _run(runs[0])
        if not row_names or len(row_names) != 2:
            raise UsageError(f"compare within one run needs --rows with two rows; rows in {runs[0]}: "
                             + ", ".join(run.index.labels()))
        (a, left), (b, right) = run.pick(row_names[0]), run.pick(row_names[1])
        return [(a, left, b, right)]
    if len(runs) != 2:
        raise UsageError("compare takes one output directory (two --rows) or two (the same rows of both)")
    left, right = _run(runs[0]), _run(runs[1])
    names = row_names or [r for r in left.index.labels() if r in right.rows]
    if not names:
        raise UsageError(f"{runs[0]} and {runs[1]} share no row; name them with --rows")
    out = []
    for name in names:
        (la, lcells), (ra, rcells) = left.pick(name), right.pick(name)
        out.append((f"{runs[0].name}/{la}", lcells, f"{runs[1].name}/{ra}", rcells))
    return out


def _side(name: str, cell: dict) -> Side:
    items = items_of(cell)
    if items is None:
        raise UsageError(f"{cell.get('_path')} has no per-item file (run before they existed); rerun that cell "
                         "(delete its .json) to compare it")
    return Side(name, cell, items)


def _matched(left: dict, right: dict) -> list[tuple]:
    return sorted(k for k in set(left) & set(right) if left[k][0] == right[k][0])


def _filter(side: Side) -> str:
    """The filter compared: ``none`` if the task has it, else its first (lm-eval's order)."""
    filters = list(dict.fromkeys(r.get("filter", "none") for r in side.items.rows))
    return "none" if "none" in filters or not filters else filters[0]


def binary_key(side: Side, metric: str) -> str | None:
    """The per-item 0/1 key for ``metric``: itself, or under --repeats ``<metric>_majority``."""
    if not all(side.items.aggregation(s, metric) == "mean" for s in side.items.subtasks()):
        return None
    for key in (metric, f"{metric}_majority"):
        vals = [v for _, v in side.items.values(key, _filter(side)).values()]
        if vals and stats.is_binary(vals):
            return key
    return None


def correctness_metric(side: Side) -> str | None:
    """The task's headline metric if it is a per-item 0/1 mean, else the first such of
    HEADLINE_ORDER, else of the task's own metric list (a task that names no headline)."""
    own = [m for sub in side.items.subtasks() for m in side.items.metrics.get(sub) or {}]
    for metric in dict.fromkeys([side.cell.get("headline_metric"), *HEADLINE_ORDER, *own]):
        if metric and binary_key(side, metric):
            return metric
    return None


def compare_task(task: str, left: Side, right: Side) -> tuple[list[dict], list[dict]]:
    """Summary rows and long-form table rows of one task."""
    summary, tables = [], []
    base = {"left": left.name, "right": right.name, "task": task}
    la, ra = left.items.answers(), right.items.answers()
    keys = _matched(la, ra)
    if keys:
        lv, rv = [la[k][1] for k in keys], [ra[k][1] for k in keys]
        summary.append({**base, "compared": "answer", **stats.agreement(lv, rv)})
        tables += _long(base, "answer", lv, rv)
    metric = correctness_metric(left)
    lkey, rkey = (binary_key(left, metric), binary_key(right, metric)) if metric else (None, None)
    if lkey and rkey:
        lc, rc = left.items.values(lkey, _filter(left)), right.items.values(rkey, _filter(right))
        keys = _matched(lc, rc)
        lv, rv = [int(lc[k][1]) for k in keys], [int(rc[k][1]) for k in keys]
        if keys:
            label = f"correct ({lkey})" if lkey == rkey else f"correct ({lkey} vs {rkey})"
            row = {**base, "compared": label, **stats.agreement([str(v) for v in lv], [str(v) for v in rv])}
            row["left_mean"], row["right_mean"] = sum(lv) / len(lv), sum(rv) / len(rv)
            row["mcnemar_p"] = stats.mcnemar_exact(lv, rv)
            summary.append(row)
            tables += _long(base, label, [str(v) for v in lv], [str(v) for v in rv])
    return summary, tables


def _long(base: dict, compared: str, left: list[str], right: list[str]) -> list[dict]:
    counts = pd.Series(list(zip(left, right))).value_counts()
    return [{**base, "compared": compared, "left_value": a, "right_value": b, "count": int(n)} for (a, b), n in counts.items()]


def _md_table(rows: pd.DataFrame) -> str:
    """A k x k crosstab (most frequent categories; the rest lumped into '(other)')."""
    totals = pd.concat([rows.groupby("left_value")["count"].sum(), rows.groupby("right_value")["count"].sum()]).groupby(level=0).sum()
    keep = set(totals.sort_values(ascending=False).index[:MAX_SHOWN])
    lump = lambda v: v if v in keep else "(other)"  # noqa: E731
    frame = rows.assign(left_value=rows["left_value"].map(lump), right_value=rows["right_value"].map(lump))
    pivot = frame.pivot_table(index="left_value", columns="right_value", values="count", aggfunc="sum", fill_value=0)
    pivot.index.name = f"{rows['left'].iloc[0]} \\ {rows['right'].iloc[0]}"
    return to_markdown(pivot.astype(int))


def run_compare(runs: list[Path], rows: list[str] | None, tasks: list[str] | None, dest: Path,
                check_dest=None) -> tuple[pd.DataFrame, list[Path]]:
    """Compare, write the files, return the summary frame and the paths written
    (``check_dest(path, flag)`` validates the destination before anything is written)."""
    summary, tables, shifts = [], [], []
    for lname, lcells, rname, rcells in pairs(runs, rows):
        common = [t for t in lcells if t in rcells]
        for t in tasks or []:
            if t not in common:
                raise unknown(f"task of both {lname} and {rname}", t, common)
        for task in tasks or common:
            s, tb = compare_task(task, _side(lname, lcells[task]), _side(rname, rcells[task]))
            summary += s
            tables += tb
            shifts += shift_for_task(task, lname, lcells[task], rname, rcells[task])
    if not summary:
        raise UsageError("no overlapping items to compare (no task with matched documents and parsed answers or 0/1 scores)")
    frame, long = pd.DataFrame(summary), pd.DataFrame(tables)
    if check_dest is not None:
        check_dest(dest, "--dest")
    dest.mkdir(parents=True, exist_ok=True)
    paths = [dest / "compare.csv", dest / "compare_tables.csv", dest / "compare.md"]
    atomic_write_text(paths[0], pd.concat([frame, pd.DataFrame(shifts)], ignore_index=True).to_csv(index=False))
    atomic_write_text(paths[1], long.to_csv(index=False))
    md = ["# Per-item agreement\n", summary_markdown(frame)]
    for (left, right, task, compared), grp in long.groupby(["left", "right", "task", "compared"], sort=False):
        md += [f"\n## {task}: {compared}, {left} vs {right}\n\n", _md_table(grp)]
    md.append(shift_markdown(shifts))
    atomic_write_text(paths[2], "".join(md))
    return frame, paths


def summary_markdown(frame: pd.DataFrame) -> str:
    cols = [c for c in ("left", "right", "task", "compared", "n", "agreement", "kappa", "kappa_low", "kappa_high",
                        "left_mean", "right_mean", "mcnemar_p") if c in frame]
    return to_markdown(frame[cols], index=False)
