"""BigToM through lm-eval: question counts, the doc contract, the choice-order rule, scoring,
and which interventions apply to it (through traits alone)."""
from __future__ import annotations

import importlib.util
import json
import math
from collections import Counter

import pytest

from tom_harness.plugins.baselines import CoT, SimToM
from tom_harness.plugins.builtin import StepByStep
from tom_harness.plugins.enigma import Enigma
from tom_harness.task_yamls import TASK_DIR
from tom_harness.lmeval.tasks import TaskCatalog

SEEDS = (12, 42, 96, 2012, 2024)
#: false_belief / false_control / true_belief / true_control per seed file (counted by hand
#: from the files' q_type fields)
CONDITIONS = {12: (32, 20, 21, 27), 42: (28, 23, 22, 27), 96: (18, 24, 33, 25),
              2012: (21, 35, 19, 25), 2024: (29, 25, 21, 25)}
NAMES = [f"bigtom_seed{s}" for s in SEEDS] + ["bigtom_full", "bigtom_mc_seed12", "bigtom_mc_full"]

spec = importlib.util.spec_from_file_location("tomh_test_bigtom", TASK_DIR / "bigtom" / "utils.py")
bigtom = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bigtom)


@pytest.fixture(scope="module")
def loaded(shared_data):
    from lm_eval.tasks import TaskManager

    return TaskManager(include_path=str(TASK_DIR), include_defaults=False).load(NAMES)["tasks"]


@pytest.mark.parametrize("name", NAMES)
def test_counts(loaded, name):
    docs = list(loaded[name].test_docs())
    full = name.endswith("_full")
    assert len(docs) == (1600 if full else 100) and len({d["story_id"] for d in docs}) == len(docs)
    by_type = Counter(d["q_type"] for d in docs)
    if full:
        assert set(by_type.values()) == {200} and len(by_type) == 8
        assert all(d["seed"] == -1 and d["reduced_question"] is None for d in docs)
    else:
        seed = int(name.rsplit("seed", 1)[1])
        cond = Counter(d["condition"] for d in docs)
        got = (cond["false_belief"], cond["false_control"], cond["true_belief"], cond["true_control"])
        assert got == CONDITIONS[seed] and {d["seed"] for d in docs} == {seed}
        assert {d["reduced_question"] for d in docs} == {"Which of the following statements is true?"}


def test_prompt_and_order_rule(loaded, shared_data):
    task = loaded["bigtom_seed12"]
    raw = json.loads((shared_data / "bigtom" / "bigtom_seed12.json").read_text())
    docs = list(task.test_docs())
    for doc in docs:
        text = task.doc_to_text(doc)
        n = text.find(doc["narrative"])
        assert n >= 0 and text.rfind(doc["question"]) > n + len(doc["narrative"]) - 1
        q = raw[doc["story_id"]]["questions"][doc["q_index"]]
        assert doc["choices"][ord(doc["gold_letter"]) - 65] == q["true_answer"] == doc["answer"]
        assert set(doc["choices"]) == {q["true_answer"], q["wrong_answer"]}
        assert f"A. {doc['choices'][0]}\nB. {doc['choices'][1]}" in text
    # 1461896477 (Aniket, the coral reef): sha256("1461896477:0") starts with "2" (even): true first
    aniket = next(d for d in docs if d["story_id"] == "1461896477")
    assert aniket["gold_letter"] == "A" and aniket["choices"][0] == "Aniket believes the coral formation is healthy."
    assert sum(d["gold_letter"] == "A" for d in docs) == 45
    # the order is the item's own: the same story in the full file gets the same letter
    full = {d["story_id"]: d for d in loaded["bigtom_full"].test_docs()}
    assert all(full[d["story_id"]]["choices"] == d["choices"] for d in docs)


DOC = {"choices": ["Noor believes the pitcher holds oat milk.", "Noor believes the pitcher holds whole milk."],
       "gold_letter": "B", "q_type": "0_forward_belief_false_belief", "condition": "false_belief"}


@pytest.mark.parametrize("response, correct", [
    ("<answer>B</answer>", 1), ("<answer>(b)</answer>", 1), ("<answer>A</answer>", 0),
    ("<answer>Noor believes the pitcher holds whole milk.</answer>", 1),
    ("<answer>Noor believes the pitcher holds oat milk.</answer>", 0),
    ("<answer>A or B</answer>", 0), ("<answer></answer>", 0), ("B", 1),
])
def test_free_scoring(response, correct):
    out = bigtom.process_results(DOC, [response])
    assert out["acc"] == correct and out["acc_false_belief"] == correct
    assert out["acc_0_forward_belief_false_belief"] == correct
    assert out["fb_minus_control"] == ("false_belief", correct)
    assert out["untagged"] == float("<answer>" not in response)


def test_mc_scoring_and_fb_minus_control():
    out = bigtom.process_results_mc({**DOC, "mc_choices": DOC["choices"], "mc_gold": 1}, [(-9.0, False), (-4.0, False)])
    assert out["acc"] == 1 and out["acc_false_belief"] == 1
    items = [("false_belief", 1.0), ("false_belief", 0.0), ("false_control", 1.0), ("true_belief", 0.0)]
    assert bigtom.agg_fb_minus_control(items) == pytest.approx(0.5 - 1.0)
    assert math.isnan(bigtom.agg_fb_minus_control([("false_belief", 1.0)]))
    assert bigtom.parse_q_type("1_forward_belief_true_control") == (1, "true_control")
    with pytest.raises(ValueError):
        bigtom.parse_q_type("1_backward_belief_true_control")


def test_interventions_apply_through_traits(shared_data):
    cat = TaskCatalog.from_sources([TASK_DIR])
    group, mc = cat.info("bigtom"), cat.info("bigtom_mc")
    for iv in (StepByStep(), CoT(), SimToM(), Enigma(nkb="prompted")):
        assert iv.applies_to(group), iv.na_reason(group)
    assert not CoT().applies_to(mc) and StepByStep().applies_to(mc)
    reason = Enigma(nkb="cache").na_reason(group)
    assert "no enigma_cache/bigtom folder in the data directory" in reason
    assert "templated" in Enigma(nkb="rules").na_reason(group)


def test_matrix_on_bigtom_gives_rows(tiny_model_dir, tmp_path, shared_data):
    """`tom-harness run --tasks bigtom` with none, sbs, cot: one row each; enigma:nkb=cache is n/a."""
    from tom_harness.cli.main import main

    out = tmp_path / "out"
    code = main(["run", "--model", "hf", "--model_args", f"pretrained={tiny_model_dir}", "--tasks", "bigtom",
                 "--interventions", "none", "sbs", "cot:max_gen_toks=16", "enigma:nkb=cache", "--limit", "1",
                 "--gen_kwargs", "max_gen_toks=8", "--output_path", str(out), "--no_progress"])
    assert code == 0
    cells = {p.parent.name: json.loads(p.read_text()) for p in (out / "cells").glob("*/bigtom.json")}
    assert {"none", "sbs", "cot--max_gen_toks=16"} <= set(cells)
    for name in ("none", "sbs", "cot--max_gen_toks=16"):
        cell = cells[name]
        assert cell["status"] == "ok" and cell["headline_metric"] == "acc"
        assert "acc,none" in cell["results"]["results"]["bigtom"]
        assert cell["metadata"]["requests"]["prompt_edits"] == (0 if name == "none" else 5)
    na = next(c for n, c in cells.items() if n.startswith("enigma"))
    assert na["status"] == "not_applicable" and "enigma_cache/bigtom" in na["metadata"]["reason"]
