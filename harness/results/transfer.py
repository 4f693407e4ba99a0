"""``compare`` on answer distributions: shift rows for two sides, the transfer report for three.

``tom-harness compare OUT_A OUT_B`` adds, for every task whose items carry ``share_*`` counts,
one row per document to compare.csv (``compared = distribution (<share>)``) and a section to
compare.md. ``tom-harness compare BASE TUNED TEACHER --base B --tuned T --teacher R`` (three
runs, or one run and three row labels) writes the transfer table instead: compare.csv (one row
per document, then the mean), compare.md, compare_transfer.png. The statistics are in
:mod:`tom_harness.results.distributions`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from tom_harness.api.errors import UsageError, unknown
from tom_harness.results import distributions as dist
from tom_harness.results.items import items_of
from tom_harness.results.outdir import atomic_write_text
from tom_harness.results.table_render import to_markdown

SHIFT_COLS = ["left", "right", "task", "compared", "subtask", "doc", "n_left", "n_right", "left_share",
              "right_share", "diff", "diff_low", "diff_high", "test", "p"]


def _dists(cell: dict) -> tuple[dict, list[str]]:
    items = items_of(cell)
    if items is None:
        return {}, []
    return dist.distributions(items), dist.categories(items)


def shift_for_task(task: str, lname: str, lcell: dict, rname: str, rcell: dict) -> list[dict]:
    """Distribution rows of one task (empty when its items carry no ``share_*`` metrics)."""
    left, cats = _dists(lcell)
    right, _ = _dists(rcell)
    if not left or not right:
        return []
    cat = dist.headline(cats, lcell.get("headline_metric"))
    rows = dist.shift_rows(left, right, cat)
    return [{"left": lname, "right": rname, "task": task, "compared": f"distribution ({cat})", **r} for r in rows]


def shift_markdown(rows: list[dict]) -> str:
    if not rows:
        return ""
    frame = pd.DataFrame(rows)
    parts = ["\n## Answer distributions (per document; diff = right - left, 95 % bootstrap CI)\n\n"]
    for (left, right, task), grp in frame.groupby(["left", "right", "task"], sort=False):
        parts.append(f"\n### {task}: {left} vs {right}\n\n")
        cols = ["subtask", "doc", "n_left", "n_right", "left_share", "right_share", "diff", "diff_low", "diff_high", "test", "p"]
        parts.append(to_markdown(grp[cols].round(4), index=False))
    return "".join(parts)


def resolve_sides(runs: list[Path], base: str, tuned: str, teacher: str, rows_by_run: Any,
                  row: str | None) -> list[tuple[str, dict[str, dict]]]:
    """(name, cells by task) of base, tuned, teacher: three row labels of one run, or three of
    the runs (named by path or folder name) with ``row`` (default: the one row they share)."""
    names = [base, tuned, teacher]
    if len(runs) == 1:
        rows = rows_by_run(runs[0])
        return [(n, rows[n]) if n in rows else _fail(f"row in {runs[0]}", n, list(rows)) for n in names]
    by_name = {**{str(r): r for r in runs}, **{r.name: r for r in runs}}
    picked = [by_name.get(n) or _fail("output directory", n, [r.name for r in runs]) for n in names]
    tables = [rows_by_run(p) for p in picked]
    shared = sorted(set.intersection(*(set(t) for t in tables)))
    label = row or (shared[0] if len(shared) == 1 else "none")
    if any(label not in t for t in tables):
        raise UsageError(f"--row {label!r} is not in all three runs; shared rows: {', '.join(shared) or 'none'}")
    return [(p.name, t[label]) for p, t in zip(picked, tables)]


def _fail(kind: str, name: str, valid: list[str]) -> Any:
    raise unknown(kind, name, valid)


def run_transfer(sides: list[tuple[str, dict[str, dict]]], tasks: list[str] | None, dest: Path,
                 check_dest=None) -> tuple[pd.DataFrame, dict, list[Path]]:
    """Per-document transfer of every shared distribution task, its mean, files written."""
    common = [t for t in sides[0][1] if all(t in cells for _, cells in sides[1:])]
    for t in tasks or []:
        if t not in common:
            raise unknown("task of base, tuned and teacher", t, common)
    rows, summaries = [], {}
    for task in tasks or common:
        got = [_dists(cells[task]) for _, cells in sides]
        if not all(d for d, _ in got):
            continue
        cat = dist.headline(got[0][1], sides[0][1][task].get("headline_metric"))
        trs, summary = dist.transfer_rows(got[0][0], got[1][0], got[2][0], cat)
        rows += [{"task": task, **r} for r in trs]
        summaries[task] = summary
    if not rows:
        raise UsageError("no task with per-document answer counts (share_* metrics under --repeats) in all three sides")
    frame = pd.DataFrame(rows)
    all_defined = frame.loc[~frame["base_equals_teacher"], "transfer"]
    summaries["all"] = {"documents": len(frame), "with_transfer": int(all_defined.size),
                        "mean_transfer": float(all_defined.mean()) if all_defined.size else float("nan")}
    if check_dest is not None:
        check_dest(dest, "--dest")
    dest.mkdir(parents=True, exist_ok=True)
    names = tuple(n for n, _ in sides)
    mean_rows = [{"task": t, "doc": "(mean)", "transfer": s["mean_transfer"], "transfer_low": s.get("mean_low"),
                  "transfer_high": s.get("mean_high"), "n_base": s["with_transfer"]} for t, s in summaries.items()]
    out = pd.concat([frame, pd.DataFrame(mean_rows)], ignore_index=True)
    out.insert(0, "base", names[0]); out.insert(1, "tuned", names[1]); out.insert(2, "teacher", names[2])  # noqa: E702
    paths = [dest / "compare.csv", dest / "compare.md", dest / "compare_transfer.png"]
    atomic_write_text(paths[0], out.to_csv(index=False))
    atomic_write_text(paths[1], transfer_markdown(frame, summaries, names))
    dist.plot_transfer(rows, names, paths[2])
    return frame, summaries, paths


def transfer_markdown(frame: pd.DataFrame, summaries: dict, names: tuple[str, ...]) -> str:
    cols = ["task", "subtask", "doc", "n_base", "n_tuned", "n_teacher", "p_base", "p_tuned", "p_teacher",
            "transfer", "transfer_low", "transfer_high", "transfer_signed", "base_equals_teacher", "base_teacher_p"]
    md = [f"# Transfer: base {names[0]}, tuned {names[1]}, teacher {names[2]}\n\n",
          "transfer = (|p_base - p_teacher| - |p_tuned - p_teacher|) / |p_base - p_teacher| (Lore et al.); "
          "transfer_signed = (p_base - p_tuned) / (p_base - p_teacher); 95 % bootstrap CIs.\n\n",
          summary_lines(summaries), "\n", to_markdown(frame[cols].round(4), index=False)]
    return "".join(md)


def summary_lines(summaries: dict) -> str:
    out = []
    for task, s in summaries.items():
        ci = f" [{s['mean_low']:.4f}, {s['mean_high']:.4f}]" if s.get("mean_low") is not None else ""
        flag = f"; base equals teacher (left out): {', '.join(s['base_equals_teacher'])}" if s.get("base_equals_teacher") else ""
        out.append(f"- {task}: mean transfer {s['mean_transfer']:.4f}{ci} over {s['with_transfer']} of {s['documents']} documents{flag}\n")
    return "".join(out)
