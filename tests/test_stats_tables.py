"""Per-item files (round trip, parsed answers), tables rebuilt from cell + item files, and
``tom-harness compare`` on synthetic output directories."""
from __future__ import annotations

import gzip
import json
import math

import numpy as np
import pandas as pd
import pytest

from tom_harness.results.outdir import OutputDir, intervention_id
from tom_harness.cli.main import main
from tom_harness.results.items import items_path, parsed_answer, read_items, write_items
from tom_harness.results.leaderboard import write_leaderboard
from tom_harness.results.stats import adjust, mcnemar_exact

TOMI_DOC = {"containers": ["basket", "red_box"], "answer": "red_box"}
HITOM_DOC = {"choices": ["blue_box", "green_crate", "red_box"], "gold_letter": "B"}


def sample(doc_id, metrics, response="<answer>basket</answer>", doc=None):
    doc = {**(doc or TOMI_DOC), "i": doc_id}
    return {"doc_id": doc_id, "doc": doc, "target": doc.get("answer", "x"), "filtered_resps": [response],
            "filter": "none", "metrics": list(metrics), "doc_hash": f"{doc_id:016d}", **metrics}


def write_cell(root, label, task, samples, *, group=None, aggregation="mean", headline=None, items=True):
    """A cell + items file as the runner writes them; ``samples``: {subtask: [sample, ...]}."""
    results = {"results": {}, "configs": {}, "n-samples": {}, "higher_is_better": {}}
    for sub, rows in samples.items():
        metrics = rows[0]["metrics"]
        entry = {"alias": sub}
        for m in metrics:
            vals = [r[m] for r in rows]
            if aggregation == "weighted_perplexity":
                entry[f"{m},none"] = math.exp(-sum(v[0] for v in vals) / sum(v[1] for v in vals))
            else:
                entry[f"{m},none"] = float(np.mean(vals))
        results["results"][sub] = entry
        results["configs"][sub] = {"metric_list": [{"metric": m, "aggregation": aggregation} for m in metrics]}
        results["n-samples"][sub] = {"original": 100, "effective": len(rows)}
    if group:
        subs = list(samples)
        vals = [results["results"][s]["acc,none"] for s in subs]
        results["results"][group] = {"acc,none": float(np.mean(vals)), "acc_seed_std,none": float(np.std(vals))}
        results["group_subtasks"] = {group: subs}
    task = group or task
    iv = {"name": label.split(":")[0], "label": label, "group_label": label, "id": intervention_id(label),
          "kind": "prompts", "params": {}, "row": 0 if label == "none" else 1}
    cell = {"schema": 1, "status": "ok", "model": "m", "task": task, "intervention": iv, "results": results,
            "metadata": {}, "headline_metric": headline}
    out = OutputDir(root)
    path = out.write_cell(cell)
    if items:
        write_items(items_path(path), samples, results)
    return path


def acc_samples(values, **kw):
    return [sample(i, {"acc": float(v)}, **kw) for i, v in enumerate(values)]


A = [1] * 10 + [1] * 1 + [0] * 6 + [0] * 5   # baseline
B = [1] * 10 + [0] * 1 + [1] * 6 + [0] * 5   # 1 vs 6 discordant: exact McNemar p = 0.125


def test_items_round_trip_and_parsed_answers(tmp_path):
    path = write_cell(tmp_path, "none", "t", {"t": acc_samples(A)})
    items = read_items(items_path(path))
    assert items_path(path).name == "t.items.jsonl.gz" and not list(tmp_path.rglob("*.tmp"))
    assert items.metrics == {"t": {"acc": {"aggregation": "mean", "higher_is_better": True}}}
    assert [r["metrics"]["acc"] for r in items.rows] == A and items.rows[0]["repeat"] == 0
    assert items.values("acc")[("t", 3)] == ("0000000000000003", 1.0)
    assert items.answers()[("t", 0)][1] == "basket"
    assert read_items(tmp_path / "missing.items.jsonl.gz") is None
    (tmp_path / "bad.items.jsonl.gz").write_bytes(gzip.compress(b'{"something": 1}\n'))
    assert read_items(tmp_path / "bad.items.jsonl.gz") is None


def test_parsed_answer_rules():
    assert parsed_answer(TOMI_DOC, "I think <answer>the red box</answer>") == "red box"
    assert parsed_answer(TOMI_DOC, "basket or red box") == "basket | red box"  # a hedge stays visible
    assert parsed_answer(HITOM_DOC, "<answer>B. green crate</answer>") == "B"
    assert parsed_answer(HITOM_DOC, "<answer>blue_box</answer>") == "A"
    assert parsed_answer({"mc_choices": ["basket", "box"]}, [[-3.0, False], [-1.5, True]]) == "box"
    assert parsed_answer({}, [-120.5]) is None and parsed_answer({}, "  Yes!  ") == "yes"
    repeats = ["<answer>basket</answer>", "red box", "<answer>red_box</answer>"]  # --repeats: majority
    assert parsed_answer(TOMI_DOC, repeats) == "red box"


def test_repeats_are_averaged_per_item(tmp_path):
    samples = {"t": acc_samples([1, 0])}
    path = tmp_path / "x.items.jsonl.gz"
    again = {"t": acc_samples([1, 1])}
    write_items(path, [samples, again], {"configs": {"t": {"metric_list": [{"metric": "acc", "aggregation": "mean"}]}}})
    items = read_items(path)
    assert [r["repeat"] for r in items.rows] == [0, 0, 1, 1]
    assert items.values("acc")[("t", 1)][1] == 0.5 and items.values("acc")[("t", 0)][1] == 1.0


def test_table_tests_marks_and_rebuild(tmp_path, capsys):
    write_cell(tmp_path, "none", "t", {"t": acc_samples(A)})
    write_cell(tmp_path, "sbs", "t", {"t": acc_samples(B)})
    write_cell(tmp_path, "cot", "t", {"t": acc_samples(A)})  # no change
    b_big = [1] * 30 + [0] * 2
    write_cell(tmp_path, "none", "u", {"u": acc_samples([0] * 32)})
    write_cell(tmp_path, "sbs", "u", {"u": acc_samples(b_big)})
    write_cell(tmp_path, "old", "u", {"u": acc_samples(b_big)}, items=False)  # an older run's cell
    table, pivot, _ = write_leaderboard([tmp_path], tmp_path)
    top = table[(table.subtask == table.task) & (table.metric == "acc")].set_index(["intervention", "task"])
    sbs_t = top.loc[("sbs", "t")]
    assert sbs_t.test == "mcnemar_exact" and sbs_t.p_value == pytest.approx(0.125) and sbs_t.n_pairs == 22
    p_u = mcnemar_exact([0] * 32, b_big)
    assert top.loc[("sbs", "u"), "p_value"] == pytest.approx(p_u)
    holm = adjust([0.125, 1.0, p_u])  # the three tested headline cells
    assert [top.loc[k, "p_adjusted"] for k in (("sbs", "t"), ("cot", "t"), ("sbs", "u"))] == pytest.approx(holm)
    assert (top.loc[[("sbs", "t"), ("cot", "t"), ("sbs", "u")], "p_family"] == "headline").all()
    assert top.loc[("old", "u"), "test"] == "no per-item file" and math.isnan(top.loc[("old", "u"), "p_value"])
    assert pivot.loc["sbs", "u (acc)"] == "0.9375 (Δ +0.938*) n=32" and "*" not in pivot.loc["sbs", "t (acc)"]
    assert pivot.loc["sbs", "t (acc)"].endswith("(Δ +0.227) n=22") and pivot.loc["old", "u (acc)"].endswith("n=32")
    csv = (tmp_path / "leaderboard.csv").read_text()
    assert main(["table", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Holm-adjusted p < 0.05 over the 3 headline cell(s)" in out and "exact McNemar" in out
    assert (tmp_path / "leaderboard.csv").read_text() == csv  # rebuilt from the files: identical


def test_seed_group_row_pools_items_and_reports_per_seed_spread(tmp_path):
    base = {"g_seed1": acc_samples([1, 1, 0, 0, 0, 0, 0, 0, 0, 0]), "g_seed2": acc_samples([1] * 4 + [0] * 16)}
    other = {"g_seed1": acc_samples([1] * 8 + [0] * 2), "g_seed2": acc_samples([1] * 2 + [0] * 18)}
    write_cell(tmp_path, "none", "g", base, group="g")
    write_cell(tmp_path, "sbs", "g", other, group="g")
    table, pivot, _ = write_leaderboard([tmp_path], tmp_path)
    row = table[(table.intervention == "sbs") & (table.subtask == "g") & (table.metric == "acc")].iloc[0]
    assert row.delta_vs_none == pytest.approx((0.6 - 0.1) / 2) and row.n_pairs == 30 and row.n == 30
    assert row.delta_seed_std == pytest.approx(np.std([0.6, -0.1]))
    assert row.test == "mcnemar_exact (pooled over 2 seed files)" and row.p_family == "headline"
    a = [r["acc"] for s in base.values() for r in s]
    b = [r["acc"] for s in other.values() for r in s]
    assert row.p_value == pytest.approx(mcnemar_exact(a, b))
    seed_rows = table[(table.intervention == "sbs") & (table.subtask == "g_seed1")]
    assert (seed_rows.p_family == "metric").all()
    assert "(Δ +0.25 ± 0.35" in pivot.loc["sbs", "g (acc)"]


def test_perplexity_rows_get_a_paired_permutation_test(tmp_path):
    rng = np.random.default_rng(1)
    words = rng.integers(100, 300, 12)
    ll = -words * 3.0
    for label, scale in (("none", 1.0), ("grad_mask", 1.08)):
        rows = [sample(i, {"word_perplexity": [float(ll[i] * scale), int(words[i])]}, response=None) for i in range(12)]
        for r in rows:
            r["filtered_resps"] = [float(r["word_perplexity"][0])]
        write_cell(tmp_path, label, "ppl", {"ppl": rows}, aggregation="weighted_perplexity")
    table, _, _ = write_leaderboard([tmp_path], tmp_path)
    row = table[(table.intervention == "grad_mask") & (table.metric == "word_perplexity")].iloc[0]
    assert row.test == "paired_permutation" and row.p_value < 0.01  # every document got worse
    assert row.delta_vs_none == pytest.approx(math.exp(3 * 1.08) - math.exp(3.0))
    assert row.delta_ci95_low <= row.delta_vs_none <= row.delta_ci95_high


def make_run(root, rows):
    for label, (values, answers) in rows.items():
        samples = [sample(i, {"acc": float(v)}, response=f"<answer>{a}</answer>") for i, (v, a) in enumerate(zip(values, answers))]
        write_cell(root, label, "t", {"t": samples})
    return root


def test_compare_two_runs_agreement_kappa_and_tables(tmp_path):
    from sklearn.metrics import cohen_kappa_score

    left_ans = ["basket", "red box", "basket", "red box", "basket", "red box", "basket", "basket"]
    right_ans = ["basket", "red box", "red box", "basket", "basket", "basket", "basket", "basket"]
    correct = lambda ans: [float(a == "red box") for a in ans]  # noqa: E731
    big = make_run(tmp_path / "big", {"none": (correct(left_ans), left_ans)})
    small = make_run(tmp_path / "small", {"none": (correct(right_ans), right_ans)})
    dest = tmp_path / "cmp"
    assert main(["compare", str(big), str(small), "--dest", str(dest)]) == 0
    summary = pd.read_csv(dest / "compare.csv").set_index("compared")
    ans = summary.loc["answer"]
    assert ans.n == 8 and ans.agreement == pytest.approx(5 / 8)
    assert ans.kappa == pytest.approx(cohen_kappa_score(left_ans, right_ans))
    cor = summary.loc["correct (acc)"]
    assert cor.left_mean == pytest.approx(3 / 8) and cor.right_mean == pytest.approx(2 / 8)
    assert cor.mcnemar_p == pytest.approx(mcnemar_exact(correct(left_ans), correct(right_ans)))
    long = pd.read_csv(dest / "compare_tables.csv")
    cell = long[(long.compared == "answer") & (long.left_value == "basket") & (long.right_value == "red box")]
    assert int(cell["count"].iloc[0]) == 1 and long[long.compared == "answer"]["count"].sum() == 8
    md = (dest / "compare.md").read_text()
    assert "## t: answer, big/none vs small/none" in md and "big/none \\ small/none" in md


def test_compare_errors_exit_2_with_closest_names(tmp_path, capsys):
    run = make_run(tmp_path / "r", {"none": ([1, 0], ["basket", "red box"]), "sbs": ([1, 1], ["basket", "basket"])})
    assert main(["compare", str(run), "--rows", "none", "sbss"]) == 2
    assert "unknown row" in capsys.readouterr().err
    assert main(["compare", str(run), "--rows", "none"]) == 2
    assert "two rows" in capsys.readouterr().err
    assert main(["compare", str(run), "--rows", "none", "sbs", "--tasks", "tt"]) == 2
    assert "did you mean: t" in capsys.readouterr().err
    assert main(["compare", str(tmp_path / "nowhere"), "--rows", "a", "b"]) == 2
    other = tmp_path / "o"
    write_cell(other, "none", "t", {"t": [{**s, "doc_hash": "f" * 16} for s in acc_samples([1, 0])]})
    assert main(["compare", str(run), str(other), "--rows", "none"]) == 2
    assert "no overlapping items" in capsys.readouterr().err
    write_cell(tmp_path / "old", "none", "t", {"t": acc_samples([1, 0])}, items=False)
    assert main(["compare", str(run), str(tmp_path / "old"), "--rows", "none"]) == 2
    assert "no per-item file" in capsys.readouterr().err


def test_protocol_column_comes_from_the_cell(tmp_path):
    path = write_cell(tmp_path, "none", "t", {"t": acc_samples(A)})
    cell = json.loads(path.read_text())
    path.write_text(json.dumps({**cell, "protocol": "paper"}))
    table, _, _ = write_leaderboard([tmp_path], tmp_path)
    assert set(table.protocol) == {"paper"}
