"""Answer distributions and Lore et al.'s transfer, pinned on the released reference counts.

The per-scenario values the paper's tables give (LFB ``new_figs/improvement_table.csv`` and
``oos_context_figs/improvement_table.csv`` @9bff884, in %) are the reference; the harness computes
the formula the paper states on shares. 28 of 32 agree; the four that cannot are pinned with the
reason (docs/protocols.md, "Lore et al."): the tables used the *signed* movement on *raw counts*.
"""
from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest
from scipy import stats

from tests.conftest import SHARED_DATA
from tom_harness.cli.replay_cmd import records_from_counts
from tom_harness.results import distributions as dist
from tom_harness.task_yamls.strategic_games.utils import parse_choice

PAPER = {  # Improvement (%) per scenario, the paper's tables
    "IR_prison": 18.64406779661017, "IR_delight": 27.439024390243905, "IR_staghunt": 32.3943661971831,
    "IR_snowdrift": 31.372549019607842, "biz_prison": 18.354430379746837, "biz_delight": 32.25806451612903,
    "biz_staghunt": 28.289473684210524, "biz_snowdrift": 20.666666666666668, "friendsharing_prison": -5.0,
    "friendsharing_delight": 3.4482758620689653, "friendsharing_staghunt": 66.66666666666666,
    "friendsharing_snowdrift": 123.07692307692308, "environment_prison": 50.0, "environment_delight": 51.886792452830186,
    "environment_staghunt": 53.65853658536586, "environment_snowdrift": 45.038167938931295, "team_prison": -25.0,
    "team_delight": 200.0, "team_staghunt": 80.0, "team_snowdrift": 72.0,
    "sports_prison": 12.97071129707113, "sports_delight": 6.598984771573605, "sports_staghunt": 10.92436974789916,
    "sports_snowdrift": 14.345991561181433, "roomsharing_prison": 20.670391061452513, "roomsharing_delight": 65.51724137931035,
    "roomsharing_staghunt": 26.041666666666668, "roomsharing_snowdrift": 17.59259259259259, "ventcap_prison": 8.411214953271028,
    "ventcap_delight": 9.803921568627452, "ventcap_staghunt": 2.4193548387096775, "ventcap_snowdrift": 19.51219512195122,
}
#: where the stated formula on shares cannot give the table's value, and what it gives instead
DISAGREE = {"friendsharing_snowdrift": 0.6914660831509846, "team_delight": 0.0,
            "roomsharing_prison": 0.22583625947144703, "roomsharing_delight": 0.6796090143904427}


def _dists(records) -> dict:
    """(task, scenario) -> Dist, by the task's own parser over the replayed responses."""
    by: dict = {}
    for r in records:
        by.setdefault((r.task, r.doc), Counter())[parse_choice(r.response) if r.response else "other"] += 1
    return {k: dist.Dist(k, {"share_c": c["C"], "share_d": c["D"], "share_other": c["other"]}) for k, c in by.items()}


@pytest.fixture(scope="module")
def reference():
    counts = json.loads((SHARED_DATA / "strategic_games" / "reference" / "choices.json").read_text())
    recs = records_from_counts(counts)
    return counts, {model: _dists(r) for model, r in recs.items()}


def test_replay_files_carry_the_released_counts(reference):
    counts, dists = reference
    c = counts["splits"]["oos_context"]["llama2_7b_chat"]["roomsharing_prison"]
    d = dists["llama2_7b_chat"][("sg_oos_context_paper", "roomsharing_prison")]
    assert (d.counts["share_c"], d.counts["share_d"], d.n) == (c["C"], c["D"], 295)
    assert sum(len(v) for v in dists.values()) == 3 * 52


def test_transfer_per_scenario_pinned_against_the_paper(reference):
    _, d = reference
    rows, summary = dist.transfer_rows(d["llama2_7b_chat"], d["llama2_7b_chat_finetuned"], d["llama2_70b_chat"], "share_c")
    got = {r["doc"]: r for r in rows if not r["doc"].endswith("_d")}
    assert set(got) == set(PAPER)
    agree = {k for k in PAPER if abs(got[k]["transfer"] * 100 - PAPER[k]) < 1e-9}
    assert agree == set(PAPER) - set(DISAGREE) and len(agree) == 28
    for k, v in DISAGREE.items():
        assert got[k]["transfer"] == pytest.approx(v, abs=1e-12)
    # why: the tables are the signed movement toward the teacher on raw counts (tuned overshoots
    # the teacher in friendsharing_snowdrift and team_delight; the 7B base has 295 answers in the
    # two roomsharing scenarios, and the 70B teacher 299 in friendsharing_snowdrift)
    for k, r in got.items():
        cb, cf, ct = (round(r[p] * r[n]) for p, n in (("p_base", "n_base"), ("p_tuned", "n_tuned"), ("p_teacher", "n_teacher")))
        assert (cb - cf) / (cb - ct) * 100 == pytest.approx(PAPER[k], abs=1e-9)
    assert summary["mean_transfer"] == pytest.approx(np.mean([r["transfer"] for r in rows]))
    assert summary["base_equals_teacher"] == [] and summary["mean_low"] < summary["mean_transfer"] < summary["mean_high"]


def test_in_sample_and_oos_means_pinned(reference):
    _, d = reference
    rows, _ = dist.transfer_rows(d["llama2_7b_chat"], d["llama2_7b_chat_finetuned"], d["llama2_70b_chat"], "share_c")
    mean = lambda task: np.mean([r["transfer"] for r in rows if r["subtask"] == task])  # noqa: E731
    assert mean("sg_in_sample_paper") == pytest.approx(0.335632, abs=1e-6)
    assert mean("sg_oos_context_paper") == pytest.approx(0.182638, abs=1e-6)
    assert mean("sg_ood_game_paper") == pytest.approx(0.197500, abs=1e-6)


def _d(c: int, d: int, o: int = 0, key=("t", "x")) -> dist.Dist:
    return dist.Dist(key, {"share_c": c, "share_d": d, "share_other": o})


def test_equal_distribution_tests_are_scipys():
    a, b = _d(30, 10), _d(12, 28)
    assert dist.equal_test(a, b) == ("fisher_exact", pytest.approx(stats.fisher_exact([[30, 10], [12, 28]]).pvalue))
    a3, b3 = _d(30, 10, 5), _d(12, 28, 1)
    assert dist.equal_test(a3, b3) == ("chi2", pytest.approx(stats.chi2_contingency([[30, 10, 5], [12, 28, 1]]).pvalue))


def test_shift_rows_difference_and_ci():
    left, right = {("t", "x"): _d(30, 70)}, {("t", "x"): _d(60, 40)}
    (row,) = dist.shift_rows(left, right, "share_c")
    assert row["diff"] == pytest.approx(0.3) and row["diff_low"] < 0.3 < row["diff_high"]
    assert 0.1 < row["diff_low"] and row["diff_high"] < 0.5 and row["p"] < 1e-4
    assert dist.shift_rows(left, right, "share_c") == [row]  # seeded: the same CI every time


def test_base_equal_to_teacher_is_flagged_and_left_out():
    base = {("t", "a"): _d(50, 50), ("t", "b"): _d(80, 20)}
    tuned = {("t", "a"): _d(40, 60), ("t", "b"): _d(60, 40)}
    teacher = {("t", "a"): _d(50, 50), ("t", "b"): _d(40, 60)}
    rows, summary = dist.transfer_rows(base, tuned, teacher, "share_c")
    a, b = rows
    assert a["base_equals_teacher"] and np.isnan(a["transfer"]) and a["base_teacher_p"] == 1.0
    assert b["transfer"] == pytest.approx(0.5) and b["transfer_signed"] == pytest.approx(0.5)
    assert summary["base_equals_teacher"] == ["t/a"] and summary["mean_transfer"] == pytest.approx(0.5)
    assert summary["with_transfer"] == 1 and "mean_low" not in summary


def test_items_counts_become_distributions_keyed_by_scenario_or_doc_id():
    from tom_harness.results.items import Items

    specs = {"s": {m: {"aggregation": "mean", "higher_is_better": True} for m in ("share_c", "share_d", "share_other")},
             "g": {"share_c": {"aggregation": "mean", "higher_is_better": True}, "acc": {"aggregation": "mean", "higher_is_better": True}}}
    rows = [
        {"subtask": "s", "doc_id": 0, "filter": "none", "target": "IR_prison", "metrics": {},
         "counts": {"share_c": 3, "share_d": 4, "share_other": 1}, "n_repeats": 8},
        {"subtask": "s", "doc_id": 1, "filter": "none", "target": "IR_delight", "metrics": {},
         "counts": {"share_c": 8, "share_d": 0, "share_other": 0}, "n_repeats": 8},
        # gold-answer targets repeat across documents: keyed by doc id instead; no repeats: the 0/1 value counts once
        {"subtask": "g", "doc_id": 0, "filter": "none", "target": "Yes", "metrics": {"share_c": 1.0, "acc": 1.0}},
        {"subtask": "g", "doc_id": 1, "filter": "none", "target": "Yes", "metrics": {"share_c": 0.0, "acc": 0.0}},
    ]
    d = dist.distributions(Items(specs, rows))
    assert dist.categories(Items(specs, rows)) == ["share_c", "share_d", "share_other"]
    assert d[("s", "IR_prison")].counts == {"share_c": 3, "share_d": 4, "share_other": 1}
    assert d[("s", "IR_prison")].share("share_c") == pytest.approx(3 / 8)
    assert d[("g", "0")].counts["share_c"] == 1 and d[("g", "1")].n == 0
