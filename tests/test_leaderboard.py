"""Leaderboard from hand-made cell dicts: deltas, seed std, headline choice, plots, docs."""
from __future__ import annotations

import inspect
import math
from pathlib import Path

import pytest

from tom_harness.api import hookspecs
from tom_harness.results.leaderboard import build_table, headline, to_html
from tom_harness.plugins.benchmarks import plot_accuracy_by_order

README = Path(__file__).resolve().parents[1] / "README.md"


def cell(label, task, results, status="ok", headline_metric=None, group_label=None):
    return {
        "schema": 1, "status": status, "model": "m", "task": task, "headline_metric": headline_metric,
        "intervention": {"name": label.split(":")[0], "label": label, "id": label.replace(":", "--"),
                         "group_label": group_label or label, "kind": "prompts", "params": {}},
        "results": results, "metadata": {"requests": {"generate_until": 4, "generated_tokens": 40}},
    }


def hitom(acc0, acc1):
    return {"results": {
        "hitom": {"acc,none": (acc0 + acc1) / 2, "acc_seed_std,none": 0.1, "acc_order0,none": acc0,
                  "acc_order1,none": acc1, "acc_order0_seed_std,none": 0.05, "n_seeds": 5},
        "hitom_seed12": {"acc,none": 0.5, "acc_stderr,none": 0.2, "alias": "x"},
    }, "n-samples": {"hitom_seed12": {"original": 613, "effective": 4}}}


def test_table_deltas_std_and_headline(tmp_path):
    cells = [
        cell("none", "hitom", hitom(0.8, 0.4)),
        cell("sbs", "hitom", hitom(0.9, 0.2)),
        cell("none", "sparse_tom", {"results": {"sparse_tom": {"acc_contents,none": 0.2, "acc_fb_mean,none": 0.3}}}, headline_metric="acc_fb_mean"),
        cell("sbs", "sparse_tom", None, status="not_applicable"),
    ]
    table = build_table(cells)
    top = table[(table.task == "hitom") & (table.subtask == "hitom") & (table.metric == "acc")].set_index("intervention")
    assert top.loc["none", "value"] == pytest.approx(0.6) and top.loc["none", "std"] == pytest.approx(0.1)
    assert top.loc["sbs", "delta_vs_none"] == pytest.approx(-0.05)
    assert not table.metric.str.contains("seed_std").any()  # folded into the std column
    sub = table[(table.subtask == "hitom_seed12") & (table.intervention == "none")].iloc[0]
    assert sub.stderr == pytest.approx(0.2) and sub.n == 4 and sub.generated_tokens == 40
    pivot = headline(table, {"sparse_tom": "acc_fb_mean"})
    assert pivot.loc["none", "sparse_tom (acc_fb_mean)"] == "0.3"
    assert pivot.loc["sbs", "sparse_tom (acc_fb_mean)"] == "n/a"
    assert pivot.loc["sbs", "hitom (acc)"].startswith("0.55 ± 0.1 (seed std) (Δ -0.05")
    page = to_html(table, pivot, [])
    assert page.count('class="sortable"') == 2 and "<script>" in page

    paths = plot_accuracy_by_order(tmp_path, table, cells)
    assert paths == [tmp_path / "tom_order.png"] and paths[0].read_bytes()[:4] == b"\x89PNG"
    assert plot_accuracy_by_order(tmp_path, table[table.task == "sparse_tom"], cells) == []


def test_replicate_summary_interval():
    cells = [cell(f"loc:seed={s}", "t", {"results": {"t": {"acc,none": v}}}, group_label="loc")
             for s, v in enumerate([0.2, 0.4, 0.6])]
    table = build_table(cells)
    s = table[table.status == "summary"].iloc[0]
    half = 4.302652729911275 * 0.2 / math.sqrt(3)  # t_{0.975, 2} * sd / sqrt(n)
    assert s.value == pytest.approx(0.4) and s.ci95_low == pytest.approx(0.4 - half) and s.draws == 3


def test_every_hook_is_documented_in_the_readme():
    text = README.read_text()
    hooks = [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
             if hasattr(fn, "tom_harness_spec")]
    assert hooks, "no hookspecs found"
    for name in hooks:
        assert f"`{name}(" in text, f"hook {name} is not documented in README.md"
