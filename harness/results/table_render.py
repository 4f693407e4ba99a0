"""Rendering of the tidy table: the headline pivot (terminal, Markdown, HTML) and its legend.

A headline cell reads ``value ± spread (Δ delta*) n=N``: ``*`` marks a delta whose
Holm-adjusted paired p-value is below 0.05 (family: every headline cell of the matrix); ``n`` is
the number of items the cell (or its paired test) used, shown however small.
"""
from __future__ import annotations

import html
import math
from typing import Any

import pandas as pd

from tom_harness.results import stats
from tom_harness.results.table_build import headline_metric

MARK = "*"


def _cell_text(row: pd.Series, iv: str) -> str:
    text = f"{row['value']:.4g}"
    if row["status"] == "summary" and pd.notna(row["ci95_low"]):
        text += f" [{row['ci95_low']:.3g}, {row['ci95_high']:.3g}]"
    elif pd.notna(row["std"]):
        text += f" ± {row['std']:.2g} (seed std)"
    elif pd.notna(row["stderr"]):
        text += f" ± {row['stderr']:.2g}"
    if pd.notna(row["delta_vs_none"]) and iv != "none":
        spread = f" ± {row['delta_seed_std']:.2g}" if pd.notna(row.get("delta_seed_std")) else ""
        mark = MARK if pd.notna(row.get("p_adjusted")) and row["p_adjusted"] < stats.ALPHA else ""
        text += f" (Δ {row['delta_vs_none']:+.3g}{spread}{mark})"
    n = row.get("n_pairs") if pd.notna(row.get("n_pairs")) else row.get("n")
    if n is not None and pd.notna(n):
        text += f" n={int(n)}"
    return text


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
            cells[iv] = _cell_text(hit.iloc[0], iv)
        columns[col] = cells
    frame = pd.DataFrame(columns).reindex(ivs).fillna("")
    frame.index.name = "intervention"
    return frame


def legend(table: pd.DataFrame) -> str:
    """What the marks mean: the tests, the adjustment and its family size, the resampling."""
    if table.empty or "p_family" not in table:
        return ""
    k = int((table["p_family"] == "headline").sum())
    tests = sorted({str(t).split(" (")[0] for t in table.loc[table["p_family"] == "headline", "test"].dropna()})
    untested = int(((table["intervention"] != "none") & table["delta_vs_none"].notna()
                    & (table["subtask"] == table["task"]) & table["p_value"].isna()).sum())
    if k == 0:
        return ("Δ = difference to `none`; no paired tests (no per-item files, or no baseline)." if untested else "")
    names = {"mcnemar_exact": "exact McNemar (0/1 scores)", "paired_permutation": "paired permutation test"}
    text = (f"Δ = difference to `none` on the same items (n = matched items). {MARK} = Holm-adjusted p < "
            f"{stats.ALPHA:g} over the {k} headline cell(s); tests: {', '.join(names.get(t, t) for t in tests)}; "
            "seed groups: ± = std of the per-seed deltas, test pooled over seed files. "
            "95 % CIs of each Δ and all p-values are in leaderboard.csv (docs/statistics.md).")
    if untested:
        text += f" {untested} task-level delta(s) have no test (see the `test` column)."
    return text


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


def terminal(pivot: pd.DataFrame, table: pd.DataFrame) -> str:
    """The headline as printed by ``run`` and ``table``: Markdown plus the legend."""
    note = legend(table)
    return to_markdown(pivot) + (f"\n{note}\n" if note else "")


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
    note = legend(table)
    if note:
        parts.append(f'<p class="legend">{html.escape(note)}</p>')
    for img in images:
        parts.append(f'<h3>{html.escape(img)}</h3><img src="{html.escape(img)}" alt="{html.escape(img)}">')
    parts += ["<h2>All metrics</h2>", '<input id="filter" placeholder="filter rows...">',
              _html_table(table.drop(columns=["params"]), "tidy", False), _HTML_SCRIPT]
    return "".join(parts)
