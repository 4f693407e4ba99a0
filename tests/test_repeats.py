"""Repeats with sampling: N answers per request, scored per repeat, mean / majority / spread, seeded."""
from __future__ import annotations

import json

import pytest

from tom_harness.results.compare import run_compare
from tom_harness.api.errors import UsageError
from tom_harness.results.items import items_path, read_items
from tom_harness.spec.matrix import build_spec
from tom_harness.spec.repeats import Repeated, RepeatEnsemble, majority
from tom_harness.run.runner import MatrixRunner
from tests.test_runner import TOY_TASKS, host, toy_data  # noqa: F401  (fixtures)

SAMPLING = "do_sample=true,temperature=1.0,top_k=50,top_p=0.95"


def test_majority_ties_go_low():
    assert majority([1.0, 1.0, 0.0]) == 1.0 and majority([1.0, 0.0]) == 0.0 and majority([0.5, 0.5, 1.0]) == 0.5


def test_repeat_ensemble_runs_the_pipeline_per_answer():
    from lm_eval.filters import build_filter_ensemble

    inner = build_filter_ensemble("strict", [["regex", {"regex_pattern": r"(\d+)", "group_select": 0}], ["take_first", None]])

    class Inst:
        def __init__(self, resps):
            self.resps, self.doc, self.filtered_resps = resps, {}, {}

    insts = [Inst(["a 1", "b 22", "c"]), Inst(["7", "x 8", "9 y"])]
    RepeatEnsemble(inner, 3).apply(insts)
    assert insts[0].filtered_resps["strict"] == ["1", "22", "[invalid]"]
    assert isinstance(insts[1].filtered_resps["strict"], Repeated) and insts[1].filtered_resps["strict"] == ["7", "8", "9"]


def _run(host, handle, out, repeats, gen=SAMPLING, **kw):  # noqa: F811
    spec = build_spec({}, {"model_args": "pretrained=tiny", "tasks": "toy_sample,toy_mc", "interventions": ["none", "sbs"],
                           "limit": 4, "include_path": [str(TOY_TASKS)], "repeats": repeats, "gen_kwargs": gen})
    MatrixRunner(spec, host, out, handle=handle, progress=False, **kw).run()
    return {p.parent.name + "/" + p.stem: json.loads(p.read_text()) for p in out.glob("cells/*/*.json")}


def test_repeats_mean_majority_spread_and_rerun(host, tiny_handle, tmp_path):  # noqa: F811
    cells = _run(host, tiny_handle, tmp_path / "a", 5, log_samples=True)
    res = cells["none/toy_sample"]["results"]["results"]["toy_sample"]
    assert {"even,strict", "even_majority,strict", "even_repeat_std,strict", "even_stderr,strict"} <= set(res)
    assert not any("_r0" in k for k in res)
    assert cells["none/toy_sample"]["metadata"]["repeats"] == {"n": 5, "tasks": ["toy_sample"]}
    rows = [json.loads(x) for x in (tmp_path / "a/cells/none/samples/toy_sample/toy_sample.jsonl").read_text().splitlines()]
    assert len(rows) == 4 and all(len(r["resps"][0]) == 5 for r in rows)
    per = [[r[f"even_r{k}"] for k in range(5)] for r in rows]
    assert res["even,strict"] == pytest.approx(sum(map(sum, per)) / 20)
    assert res["even_majority,strict"] == pytest.approx(sum(float(sum(p) > 2.5) for p in per) / 4)
    assert len({a for r in rows for a in r["resps"][0]}) > 4, "sampling should give different answers"
    # multiple-choice tasks are deterministic: asked once
    assert "acc_majority,none" not in cells["none/toy_mc"]["results"]["results"]["toy_mc"]
    again = _run(host, tiny_handle, tmp_path / "b", 5)
    for key, cell in cells.items():  # n/a cells (sbs needs story traits the toy tasks lack) have no results
        assert (again[key]["results"] or {}).get("results") == (cell["results"] or {}).get("results"), key
    # compare under repeats: the majority answer and the per-item majority correctness (0/1), per item
    frame, _ = run_compare([tmp_path / "a", tmp_path / "b"], ["none"], ["toy_sample"], tmp_path / "cmp")
    by = {r["compared"]: r for r in frame.to_dict("records")}
    assert set(by) == {"answer", "correct (even_majority)"}, by
    assert by["correct (even_majority)"]["n"] == 4 and by["correct (even_majority)"]["agreement"] == 1.0
    assert by["correct (even_majority)"]["left_mean"] == pytest.approx(res["even_majority,strict"])
    assert by["answer"]["n"] == 4 and by["answer"]["agreement"] == 1.0
    # the majority is aggregated like its metric (so the leaderboard gives it a paired test)
    items = read_items(items_path(tmp_path / "a/cells/none/toy_sample.json"))
    assert items.aggregation("toy_sample", "even_majority") == "mean" and items.aggregation("toy_sample", "odd_majority") is None


def test_repeats_must_be_positive():
    with pytest.raises(UsageError, match=r"--repeats.*(at least 1|>= 1)"):
        build_spec({}, {"tasks": "x", "repeats": "0"})
