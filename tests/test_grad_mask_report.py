"""The grad_mask report writer on cells shaped like the runner's, through the real leaderboard table."""
from __future__ import annotations

import pandas as pd
import pytest

from tom_harness.results.outdir import intervention_id
from tom_harness.results.leaderboard import build_table
from tom_harness.plugins.grad_mask.intervention import GradMask
from tom_harness.plugins.grad_mask.report import module_tables, sweep_points, write_reports


def _cell(label_params: dict | None, task: str, metric: str, value: float, meta: dict | None = None) -> dict:
    if label_params is None:
        iv = {"name": "none", "label": "none", "params": {}, "kind": "none"}
    else:
        params = {p.name: p.default for p in GradMask.params} | label_params
        label = GradMask(**params).label()
        iv = {"name": "grad_mask", "label": label, "params": params, "kind": "weights",
              "group_label": GradMask(**params).group_label()}
    iv["id"] = intervention_id(iv["label"])
    results = {"results": {task: {"alias": task, f"{metric},none": value, f"{metric}_stderr,none": 0.01}}}
    return {"model": "tiny", "intervention": iv, "task": task, "status": "ok", "results": results,
            "metadata": meta or {}}


def _meta(q: int, k: int, layer_q: dict) -> dict:
    return {"weights_perturbed": q + k, "weights_perturbed_by_role": {"q": q, "k": k},
            "weights_perturbed_by_layer": {str(l): {"q": n, "k": 0 if l else k} for l, n in layer_q.items()},
            "magnitude_by_role": {"q": {"mean_abs_selected": 0.2, "mean_abs_matrix": 0.05},
                                  "k": {"mean_abs_selected": 0.1, "mean_abs_matrix": 0.05}}}


@pytest.fixture()
def sweep_cells() -> list[dict]:
    cells = [_cell(None, "sparse_tom", "acc", 0.8), _cell(None, "wikitext2_ppl", "word_perplexity", 30.0)]
    for m, acc, ppl in ((1e-5, 0.6, 30.5), (2e-5, 0.4, 31.0)):
        meta = _meta(int(m * 1e6), 2, {0: int(m * 1e6) - 1, 1: 1})
        cells += [_cell({"m": m}, "sparse_tom", "acc", acc, meta), _cell({"m": m}, "wikitext2_ppl", "word_perplexity", ppl, meta)]
        for seed, jitter in ((0, 0.0), (1, 0.02)):
            p = {"m": m, "control": "random", "control_seed": seed}
            cells += [_cell(p, "sparse_tom", "acc", 0.79 - jitter), _cell(p, "wikitext2_ppl", "word_perplexity", 30.1)]
    return cells


def test_sweep_points_baseline_control_and_tasks(sweep_cells):
    points = sweep_points(build_table(sweep_cells))
    tom = points[(points["measure"] == "tom") & (points["series"] == "Fisher mask")].sort_values("m")
    assert tom["m"].tolist() == [0.0, 1e-5, 2e-5] and tom["value"].tolist() == pytest.approx([0.8, 0.6, 0.4])
    ctrl = points[(points["measure"] == "tom") & (points["series"] == "random control")].sort_values("m")
    assert ctrl["m"].tolist() == [0.0, 1e-5, 2e-5]
    assert ctrl["value"].tolist()[1:] == pytest.approx([0.78, 0.78]) and ctrl["n_rows"].tolist()[1:] == [2, 2]
    assert ctrl["min"].tolist()[1] == pytest.approx(0.77)
    ppl = points[(points["measure"] == "ppl") & (points["series"] == "Fisher mask")].sort_values("m")
    assert ppl["metric"].unique().tolist() == ["word_perplexity"] and ppl["value"].tolist() == [30.0, 30.5, 31.0]


def test_writer_outputs_plot_and_module_tables(sweep_cells, tmp_path):
    paths = write_reports(tmp_path, build_table(sweep_cells), sweep_cells)
    names = {p.name for p in paths}
    assert names == {"grad_mask_sweep.png", "grad_mask_sweep.csv", "grad_mask_modules.csv",
                     "grad_mask_modules.md", "grad_mask_modules_by_layer.csv"}
    assert (tmp_path / "grad_mask_sweep.png").read_bytes()[:4] == b"\x89PNG"
    roles = pd.read_csv(tmp_path / "grad_mask_modules.csv")
    row = roles[(roles["m"] == 2e-5) & (roles["role"] == "q")].iloc[0]
    assert row["weights"] == 20 and row["share"] == pytest.approx(20 / 22)
    assert row["top_layers"] == "0,1" and row["magnitude_ratio"] == pytest.approx(4.0)
    assert len(roles) == 4  # two Fisher rows x two roles; the control cells carry no breakdown
    by_layer = pd.read_csv(tmp_path / "grad_mask_modules_by_layer.csv")
    assert by_layer[(by_layer["m"] == 2e-5) & (by_layer["role"] == "q")]["weights"].tolist() == [19, 1]


def test_sparse_tom_headline_metric_is_preferred(sweep_cells):
    for cell in sweep_cells:
        res = cell["results"]["results"].get("sparse_tom")
        if res:
            res["acc_contents,none"] = 0.123
            res["acc_fb_mean,none"] = res.pop("acc,none")
    points = sweep_points(build_table(sweep_cells))
    assert set(points[points["measure"] == "tom"]["metric"]) == {"acc_fb_mean"}


def test_writer_handles_missing_tasks_and_other_runs(sweep_cells, tmp_path):
    only_ppl = [c for c in sweep_cells if c["task"] == "wikitext2_ppl"]
    points = sweep_points(build_table(only_ppl))
    assert set(points["measure"]) == {"ppl"}
    assert (tmp_path / "grad_mask_sweep.png") in write_reports(tmp_path, build_table(only_ppl), only_ppl)
    others = [c for c in sweep_cells if c["intervention"]["name"] == "none"]
    out = tmp_path / "none_only"
    out.mkdir()
    assert write_reports(out, build_table(others), others) == []
    assert write_reports(out, pd.DataFrame(), []) == []
    roles, layers = module_tables([])
    assert roles.empty and layers.empty
