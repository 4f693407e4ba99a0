"""Leaderboard tables built from cell files alone (so ``tom-harness table`` can rebuild or merge).

The tidy table has one row per (intervention, task, subtask, metric, filter). Rows of an
intervention that differ only in a replicate parameter (e.g. random seeds) also get a summary row:
mean over draws with a 95 % t-interval.
"""
from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from .cells import atomic_write_text, iter_cells

COLUMNS = [
    "model", "intervention", "intervention_id", "group_label", "kind", "params", "task", "subtask",
    "metric", "filter", "value", "stderr", "std", "n", "delta_vs_none", "ci95_low", "ci95_high", "draws",
    "status", "model_calls", "generated_tokens",
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


def cell_rows(cell: dict) -> list[dict]:
    """Tidy rows of one cell."""
    iv = cell["intervention"]
    meta = cell.get("metadata") or {}
    base = {
        "model": cell.get("model"), "intervention": iv["label"], "intervention_id": iv["id"],
        "group_label": iv.get("group_label", iv["label"]), "kind": iv["kind"],
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
    n_samples = results.get("n-samples", {})
    order = [cell["task"]] + [k for k in res if k != cell["task"]]
    rows = []
    for name in order:
        entry = res.get(name) or results.get("groups", {}).get(name)
        if not entry:
            continue
        n = (n_samples.get(name) or {}).get("effective") or entry.get("sample_len") or entry.get("sample_count")
        for key, value in entry.items():
            if key in _SKIP_KEYS or "_stderr," in key or "_seed_std," in key:
                continue
            metric, _, filt = key.partition(",")
            val = _num(value)
            if val is None:
                continue
            stderr = _num(entry.get(f"{metric}_stderr,{filt}"))
            rows.append({**base, "subtask": name, "metric": metric, "filter": filt or "none",
                         "value": val, "stderr": stderr, "std": _num(entry.get(f"{metric}_seed_std,{filt}")), "n": n})
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


def build_table(cells: Iterable[dict]) -> pd.DataFrame:
    """The tidy leaderboard (with deltas against ``none`` and replicate summaries)."""
    rows: list[dict] = []
    seen: set[tuple[str, str, str]] = set()
    for cell in cells:
        ident = (str(cell.get("model")), cell["intervention"]["id"], cell["task"])
        if ident in seen:  # the same cell in two merged shards
            continue
        seen.add(ident)
        rows.extend(cell_rows(cell))
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
    return table


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


def headline(table: pd.DataFrame, preferred: dict[str, str] | None = None,
             order: dict[str, int] | None = None) -> pd.DataFrame:
    """One value per (intervention, task): the task's own row, in its headline metric; rows in
    matrix order (``order``: label -> row), the baseline first."""
    preferred, order = preferred or {}, order or {}
    if table.empty:
        return pd.DataFrame()
    top = table[table["subtask"] == table["task"]]
    ivs = list(dict.fromkeys(top["intervention"]))
    ivs.sort(key=lambda iv: (iv != "none", order.get(iv.split(" [mean of")[0], 10**6)))
    columns: dict[str, dict[str, str]] = {}
    for task, rows in top.groupby("task", sort=False):
        metric = headline_metric(rows[rows["value"].notna()], preferred.get(task))
        col = f"{task} ({metric})" if metric else task
        cells: dict[str, str] = {}
        for iv, grp in rows.groupby("intervention", sort=False):
            hit = grp[(grp["metric"] == metric) & grp["value"].notna()]
            if hit.empty:
                cells[iv] = "n/a" if (grp["status"] == "not_applicable").all() else "-"
                continue
            row = hit.iloc[0]
            text = f"{row['value']:.4g}"
            if row["status"] == "summary" and pd.notna(row["ci95_low"]):
                text += f" [{row['ci95_low']:.3g}, {row['ci95_high']:.3g}]"
            elif pd.notna(row["std"]):
                text += f" ± {row['std']:.2g} (seed std)"
            elif pd.notna(row["stderr"]):
                text += f" ± {row['stderr']:.2g}"
            if pd.notna(row["delta_vs_none"]) and iv != "none":
                text += f" (Δ {row['delta_vs_none']:+.3g})"
            cells[iv] = text
        columns[col] = cells
    frame = pd.DataFrame(columns).reindex(ivs).fillna("")
    frame.index.name = "intervention"
    return frame


def to_markdown(frame: pd.DataFrame, index: bool = True) -> str:
    """A GitHub-flavoured Markdown table (no tabulate dependency)."""
    if frame.empty:
        return "_no results_\n"
    cols = ([frame.index.name or ""] if index else []) + [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for idx, row in frame.iterrows():
        vals = ([str(idx)] if index else []) + [_fmt(v) for v in row.tolist()]
        lines.append("| " + " | ".join(v.replace("|", "\\|") for v in vals) + " |")
    return "\n".join(lines) + "\n"


def _fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


_HTML_HEAD = """<!doctype html><html><head><meta charset="utf-8"><title>tom-harness leaderboard</title>
<style>body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:2em}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;font-size:13px}th{background:#f3f3f3;cursor:pointer}
th.asc::after{content:" \\25B2"}th.desc::after{content:" \\25BC"}tr:nth-child(even){background:#fafafa}
img{max-width:720px;display:block;margin:1em 0}input{margin:0 0 1em;padding:4px;width:320px}</style></head><body>
"""
_HTML_SCRIPT = """<script>
document.querySelectorAll('table.sortable').forEach(function(t){
 t.querySelectorAll('th').forEach(function(th,i){th.addEventListener('click',function(){
  var asc=!th.classList.contains('asc');t.querySelectorAll('th').forEach(function(h){h.classList.remove('asc','desc')});
  th.classList.add(asc?'asc':'desc');var rows=Array.from(t.tBodies[0].rows);
  rows.sort(function(a,b){var x=a.cells[i].innerText,y=b.cells[i].innerText,nx=parseFloat(x),ny=parseFloat(y);
   var c=(!isNaN(nx)&&!isNaN(ny))?nx-ny:x.localeCompare(y);return asc?c:-c});
  rows.forEach(function(r){t.tBodies[0].appendChild(r)})})})});
var f=document.getElementById('filter');if(f){f.addEventListener('input',function(){var q=f.value.toLowerCase();
 document.querySelectorAll('#tidy tbody tr').forEach(function(r){r.style.display=r.innerText.toLowerCase().indexOf(q)<0?'none':''})})}
</script></body></html>"""


def _html_table(frame: pd.DataFrame, table_id: str, index: bool) -> str:
    cols = ([frame.index.name or "intervention"] if index else []) + [str(c) for c in frame.columns]
    out = [f'<table class="sortable" id="{table_id}"><thead><tr>']
    out += [f"<th>{html.escape(c)}</th>" for c in cols]
    out.append("</tr></thead><tbody>")
    for idx, row in frame.iterrows():
        vals = ([str(idx)] if index else []) + [_fmt(v) for v in row.tolist()]
        out.append("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in vals) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def to_html(table: pd.DataFrame, pivot: pd.DataFrame, images: list[str]) -> str:
    parts = [_HTML_HEAD, "<h1>tom-harness leaderboard</h1>"]
    models = sorted(set(table["model"].dropna())) if not table.empty else []
    if models:
        parts.append(f"<p>model: {html.escape(', '.join(map(str, models)))}</p>")
    parts += ["<h2>Headline</h2>", _html_table(pivot, "headline", True) if not pivot.empty else "<p>no results</p>"]
    for img in images:
        parts.append(f'<h3>{html.escape(img)}</h3><img src="{html.escape(img)}" alt="{html.escape(img)}">')
    parts += ["<h2>All metrics</h2>", '<input id="filter" placeholder="filter rows...">',
              _html_table(table.drop(columns=["params"]), "tidy", False), _HTML_SCRIPT]
    return "".join(parts)


def row_order(cells: Iterable[dict]) -> dict[str, int]:
    """Label (and group label) -> the row's position in its matrix, for display order."""
    order: dict[str, int] = {}
    for c in cells:
        iv = c["intervention"]
        for key in (iv["label"], iv.get("group_label", iv["label"])):
            order[key] = min(order.get(key, 10**6), int(iv.get("row", 10**6)))
    return order


def preferred_metrics(cells: Iterable[dict]) -> dict[str, str]:
    """Task -> headline metric declared by the task (recorded in its cells)."""
    return {c["task"]: c["headline_metric"] for c in cells if c.get("headline_metric")}


def write_leaderboard(output_dirs: list[Path], dest: Path, report_writers: dict | None = None) -> tuple[pd.DataFrame, pd.DataFrame, list[Path]]:
    """Build the table from the cell files under ``output_dirs`` and write it (and plots) to ``dest``."""
    cells = list(iter_cells(output_dirs))
    table = build_table(cells)
    pivot = headline(table, preferred_metrics(cells), row_order(cells))
    written: list[Path] = []
    for name, fn in (report_writers or {}).items():
        try:
            written.extend(Path(p) for p in (fn(dest, table, cells) or []))
        except Exception as exc:  # noqa: BLE001 - a broken report must not lose the table
            import logging

            logging.getLogger("tom_harness").warning("report writer %s failed: %s", name, exc)
    csv_path, md_path, html_path = dest / "leaderboard.csv", dest / "leaderboard.md", dest / "leaderboard.html"
    atomic_write_text(csv_path, table.to_csv(index=False))
    md = "# Leaderboard\n\n## Headline\n\n" + to_markdown(pivot) + "\n## All metrics\n\n" + to_markdown(table.drop(columns=["params"]), index=False)
    atomic_write_text(md_path, md)
    images = sorted(str(p.relative_to(dest)) for p in written if p.suffix == ".png" and p.is_relative_to(dest))
    atomic_write_text(html_path, to_html(table, pivot, images))
    return table, pivot, [csv_path, md_path, html_path, *written]
