"""The Boosting-ToM protocol on a tiny random Llama: sampled repeats on mh_tom, per-scenario verdicts
in the items file, belief_minus_photo, the published ttest_rel beside the harness's own test, and
identical tables from a rerun into a new directory."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from tom_harness.host.plugin_host import load_host
from tom_harness.results.items import items_path, read_items
from tom_harness.results.leaderboard import write_leaderboard
from tom_harness.results.published_ttest import FAMILY, TEST_NAME
from tom_harness.run.runner import MatrixRunner
from tom_harness.spec.matrix import build_spec

N = 3
GEN = "do_sample=true,temperature=0.4,top_k=50,top_p=0.95,max_gen_toks=6"


def _run(tiny_handle, out):
    spec = build_spec({}, {"model_args": "pretrained=tiny", "tasks": "mh_tom", "interventions": ["none", "sbs"],
                           "limit": 4, "repeats": N, "gen_kwargs": GEN})
    MatrixRunner(spec, load_host(), out, handle=tiny_handle, progress=False).run()
    table, _, _ = write_leaderboard([out], out)
    return table


@pytest.fixture(scope="module")
def runs(tmp_path_factory, tiny_model_dir, shared_data):
    from tom_harness.backends.loading import load_hf

    handle = load_hf({"pretrained": str(tiny_model_dir), "max_length": 1024}, "cpu", 4)
    root = tmp_path_factory.mktemp("mh_protocol")
    return root, _run(handle, root / "a"), _run(handle, root / "b")


def test_items_hold_every_answer_verdict(runs):
    root, _, _ = runs
    items = read_items(items_path(root / "a" / "cells" / "sbs" / "mh_tom.json"))
    assert set(items.subtasks()) == {"mh_belief", "mh_photo"}
    for row in items.rows:
        m = row["metrics"]
        verdicts = [m[f"acc_r{k}"] for k in range(N)]
        assert set(verdicts) <= {0.0, 1.0} and m["acc"] == pytest.approx(sum(verdicts) / N)
        assert row["counts"]["acc"] == sum(verdicts) and row["n_repeats"] == N  # per-scenario correct count


def test_group_has_belief_minus_photo(runs):
    root, _, _ = runs
    cell = json.loads((root / "a" / "cells" / "none" / "mh_tom.json").read_text())
    res = cell["results"]["results"]
    assert res["mh_tom"]["belief_minus_photo,none"] == pytest.approx(res["mh_belief"]["acc,none"] - res["mh_photo"]["acc,none"])


def test_published_ttest_beside_the_harness_test(runs):
    root, table, _ = runs
    sbs = table[(table["intervention"] == "sbs") & (table["metric"] == "acc")]
    for subtask in ("mh_tom", "mh_belief", "mh_photo"):
        rows = sbs[sbs["subtask"] == subtask]
        tests = list(rows["test"])
        assert len(rows) == 2 and TEST_NAME in tests and any(t != TEST_NAME for t in tests), tests
        twin = rows[rows["test"] == TEST_NAME].iloc[0]
        assert twin["p_family"] == FAMILY and pd.isna(twin["p_adjusted"])
    # the twin's p-value is scipy's paired t-test over the per-scenario values of the items files
    base = read_items(items_path(root / "a" / "cells" / "none" / "mh_tom.json")).values("acc", subtasks=["mh_belief"])
    other = read_items(items_path(root / "a" / "cells" / "sbs" / "mh_tom.json")).values("acc", subtasks=["mh_belief"])
    keys = sorted(base)
    a = np.array([base[k][1] for k in keys]) * N  # per-scenario counts of correct answers
    b = np.array([other[k][1] for k in keys]) * N
    twin = sbs[(sbs["subtask"] == "mh_belief") & (sbs["test"] == TEST_NAME)].iloc[0]
    want = sps.ttest_rel(b, a).pvalue
    assert int(twin["n_pairs"]) == 4
    assert (np.isnan(want) and pd.isna(twin["p_value"])) or twin["p_value"] == pytest.approx(want)
    csv = pd.read_csv(root / "a" / "leaderboard.csv")
    assert (csv["test"] == TEST_NAME).sum() == (table["test"] == TEST_NAME).sum() > 0


def test_rerun_gives_identical_tables(runs):
    _, a, b = runs
    cols = ["intervention", "subtask", "metric", "value", "p_value", "test"]
    pd.testing.assert_frame_equal(a[cols].reset_index(drop=True), b[cols].reset_index(drop=True))
