"""Tables: each metric's ``n`` counts the items behind it (per-type metrics have fewer), the
baseline shows its own ``n``, rows keep the parameters that tell them apart (display labels), and
``compare --rows`` finds a row by label, display label or full spec."""
from __future__ import annotations

import json

import numpy as np
import pytest

from tom_harness.cli.main import main
from tom_harness.results.items import items_path, write_items
from tom_harness.results.leaderboard import headline, write_leaderboard
from tom_harness.results.outdir import OutputDir, intervention_id
from tom_harness.results.row_names import RowIndex, display_labels

KINDS = ["first_order", "second_order", "reality", "first_order", "memory", "first_order"]


def typed_samples(correct: list[int]) -> list[dict]:
    """Samples as a ToMi-like task scores them: ``acc`` on every item, ``acc_<type>`` only on
    the items of that type (so lm-eval's counts differ by metric)."""
    out = []
    for i, (c, kind) in enumerate(zip(correct, KINDS)):
        metrics = {"acc": float(c), f"acc_{kind}": float(c)}
        out.append({"doc_id": i, "doc": {"i": i}, "target": "x", "filtered_resps": ["x"], "filter": "none",
                    "metrics": list(metrics), "doc_hash": f"{i:016d}", **metrics})
    return out


def write_typed_cell(root, label: str, params: dict, per_seed: dict[str, list[int]], row: int, group="tomi") -> None:
    results = {"results": {}, "configs": {}, "n-samples": {}, "higher_is_better": {}, "group_subtasks": {group: list(per_seed)}}
    samples = {}
    for sub, correct in per_seed.items():
        rows = typed_samples(correct)
        samples[sub] = rows
        names = list(dict.fromkeys(m for r in rows for m in r["metrics"]))
        results["results"][sub] = {f"{m},none": float(np.mean([r[m] for r in rows if m in r])) for m in names}
        results["configs"][sub] = {"metric_list": [{"metric": m, "aggregation": "mean"} for m in names]}
        results["n-samples"][sub] = {"original": 100, "effective": len(rows)}
    subs = list(per_seed)
    results["results"][group] = {k: float(np.mean([results["results"][s][k] for s in subs]))
                                 for k in results["results"][subs[0]]}
    name = label.split(":")[0]
    iv = {"name": name, "label": label, "group_label": label, "id": intervention_id(label), "kind": "activations",
          "params": params, "replicate_params": [], "row": row}
    cell = {"schema": 1, "status": "ok", "model": "m", "task": group, "intervention": iv, "results": results,
            "metadata": {}, "headline_metric": "acc"}
    path = OutputDir(root).write_cell(cell)
    write_items(items_path(path), samples, results)


@pytest.fixture()
def scale_run(tmp_path):
    """A matrix ``none scale:layer=10,factor=0.5 scale:layer=12`` (layer=10, factor=0.5 the defaults)."""
    out = tmp_path / "out"
    OutputDir(out).claim({"interventions": ["none", "scale:layer=10,factor=0.5", "scale:layer=12"]}, "h", {}, False)
    seeds = {"tomi_seed12": [1, 0, 1, 1, 0, 1], "tomi_seed42": [1, 1, 1, 0, 0, 1]}
    write_typed_cell(out, "none", {}, seeds, 0)
    write_typed_cell(out, "scale", {"layer": 10, "factor": 0.5}, {k: [1] * 6 for k in seeds}, 1)
    write_typed_cell(out, "scale:layer=12", {"layer": 12, "factor": 0.5}, {k: [0] * 6 for k in seeds}, 2)
    return out


def test_each_metric_counts_its_own_items(scale_run):
    table, pivot, _ = write_leaderboard([scale_run], scale_run)
    rows = table[(table.intervention == "none") & (table.status == "ok")].set_index(["subtask", "metric"])["n"]
    assert rows[("tomi_seed12", "acc")] == 6 and rows[("tomi_seed12", "acc_first_order")] == 3
    assert rows[("tomi_seed12", "acc_reality")] == 1 and rows[("tomi_seed12", "acc_memory")] == 1
    assert rows[("tomi", "acc")] == 12 and rows[("tomi", "acc_first_order")] == 6  # summed over seed files
    assert rows[("tomi", "acc_second_order")] == 2
    # the baseline's headline cell shows its own n; other rows the matched items of their test
    assert pivot.loc["none", "tomi (acc)"].endswith(" n=12")
    assert pivot.loc["scale:layer=12,factor=0.5", "tomi (acc)"].endswith(" n=12")
    by_type = headline(table, {"tomi": "acc_first_order"})  # a per-type headline: its own items on every row
    assert by_type.loc["none", "tomi (acc_first_order)"].endswith(" n=6")
    assert by_type.loc["scale:layer=12,factor=0.5", "tomi (acc_first_order)"].endswith(" n=6")


def test_rows_keep_the_parameters_that_tell_them_apart(scale_run):
    table, pivot, _ = write_leaderboard([scale_run], scale_run)
    shown = ["none", "scale:layer=10,factor=0.5", "scale:layer=12,factor=0.5"]
    assert list(pivot.index) == shown  # matrix order, labels unique
    md = (scale_run / "leaderboard.md").read_text().split("## All metrics")[0]
    assert all(f"| {label} |" in md for label in shown)
    assert "| scale |" not in md  # (the id column of the tidy table below still says `scale`)
    assert set(table.loc[table.status == "ok", "intervention"]) == set(shown)


def test_without_a_manifest_the_varying_parameters_are_kept():
    cells = [{"intervention": {"name": "scale", "label": lab, "params": p}} for lab, p in
             (("scale", {"layer": 10, "factor": 0.5}), ("scale:layer=12", {"layer": 12, "factor": 0.5}))]
    assert display_labels(cells) == {"scale": "scale:layer=10", "scale:layer=12": "scale:layer=12"}
    stack = [{"intervention": {"name": "scale+cot", "label": "scale+cot", "params": {"scale": {"layer": 10}, "cot": {}}}},
             {"intervention": {"name": "scale+cot", "label": "scale:layer=3+cot", "params": {"scale": {"layer": 3}, "cot": {}}}}]
    assert display_labels(stack)["scale+cot"] == "scale:layer=10+cot"


def test_a_row_is_found_by_label_id_display_label_or_spec(scale_run):
    from tom_harness.results.outdir import iter_cells

    index = RowIndex(iter_cells([scale_run]), ["none", "scale:layer=10,factor=0.5", "scale:layer=12"])
    for name in ("scale", "scale:layer=10,factor=0.5", "scale:factor=0.5,layer=10", "scale:factor=5e-1",
                 "scale:layer=10"):
        assert index.find(name) == "scale", name
    assert index.find("scale:layer=12,factor=0.5") == index.find("scale--layer=12") == "scale:layer=12"
    assert index.lookup("scale:layer=11") is None and index.lookup("scale:layer=12,factor=2") is None


def test_compare_accepts_the_full_spec(scale_run, capsys):
    assert main(["compare", str(scale_run), "--rows", "none", "scale:layer=10,factor=0.5"]) == 0
    summary = (scale_run / "compare.csv").read_text()
    assert "scale" in summary and "none" in summary
    assert main(["compare", str(scale_run), "--rows", "none", "scale:layer=11"]) == 2
    err = capsys.readouterr().err
    assert "unknown row" in err and "scale:layer=11" in err and "Traceback" not in err


def test_display_labels_never_merge_rows():
    """Two rows whose display labels would coincide keep their own labels."""
    cells = [{"intervention": {"name": "x", "label": lab, "params": {"a": 1}}} for lab in ("x", "x:b=2")]
    names = display_labels(cells)
    assert len(set(names.values())) == 2 and json.dumps(names)
