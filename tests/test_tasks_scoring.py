"""Scorers on hand-made model outputs, including malformed ones; fair vs paper parsing."""
from __future__ import annotations

import importlib.util
import math

import pytest

from tom_harness.task_yamls import TASK_DIR
from tom_harness.task_yamls.helpers import extract, seed_summary


def _utils(folder: str):
    spec = importlib.util.spec_from_file_location(f"tomh_test_{folder}", TASK_DIR / folder / "utils.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


tomi, hitom, fantom, sparse = (_utils(f) for f in ("tomi", "hitom", "fantom", "sparse_tom"))

TOMI_DOC = {"answer": "cupboard", "containers": ["basket", "cupboard"], "question_type": "second_order_1_tom"}


def test_extract_tags_and_fallback():
    assert extract("<answer>basket</answer>") == ("basket", True)
    assert extract("blah <ANSWER> basket") == ("basket", True)  # unclosed and upper case: still tagged
    # blocks that disagree are a hedge (joined by " or ", which every parser rejects); was "b"
    assert extract("x <answer>a</answer> y <answer>b</answer>") == ("a or b", True)
    assert extract("<answer>B</answer> so <answer>b.</answer>") == ("B", True)
    assert extract("I think.\nThe answer is: cupboard") == ("cupboard", False)
    assert extract("") == ("", False)


@pytest.mark.parametrize("response, fair, paper", [
    ("<answer>cupboard</answer>", 1, 1),
    ("<answer>the cupboard</answer>", 1, 1),
    ("<answer>basket</answer>", 0, 0),
    ("<answer>cupboard or basket</answer>", 0, 0),  # both named: wrong in both modes
    ("<answer>cupboard,", 1, 0),                     # the paper scorer does not match "cupboard,"
    ("cupboard", 1, 1),                              # untagged: fallback (reported as untagged)
    ("<answer>cupboard</answer> Therefore basket", 1, 0),  # paper: "Therefore" after tags wins
    ("", 0, 0),
])
def test_tomi_scoring(response, fair, paper):
    out = tomi.process_results(TOMI_DOC, [response])
    assert (out["acc"], out["acc_paper"]) == (fair, paper)
    assert out["acc_second_order"] == fair and out["acc_tom"] == fair
    assert out["untagged"] == float("<answer>" not in response.lower())


HITOM_DOC = {"choices": ["red box", "green bottle", "blue crate"], "gold_letter": "B", "question_order": 3}


@pytest.mark.parametrize("response, fair, paper", [
    ("<answer>B</answer>", 1, 1), ("<answer> b </answer>", 1, 1), ("<answer>B. green bottle</answer>", 1, 1),
    ("<answer>(B)</answer>", 1, 0), ("<answer>**B**</answer>", 1, 0), ("<answer>Option B</answer>", 1, 0),
    ("<answer>green bottle</answer>", 1, 0), ("<answer>A</answer>", 0, 0), ("B.", 1, 1),
    ("Answer: B", 1, 0), ("<answer>Z</answer>", 0, 0), ("<answer></answer>", 0, 0),
])
def test_hitom_scoring(response, fair, paper):
    out = hitom.process_results(HITOM_DOC, [response])
    assert (out["acc"], out["acc_paper"]) == (fair, paper)
    assert out["acc_order3"] == fair and "acc_order0" not in out


def _fantom(kind, **kw):
    return {"type": kind, "choices": kw.get("choices", []), "gold": kw.get("gold", ""),
            "gold_list": kw.get("gold_list", [])}


@pytest.mark.parametrize("doc, response, fair, paper", [
    (_fantom("belief_inaccessible", choices=["x", "y"], gold="A"), "<answer>A</answer>", 1, 1),
    (_fantom("belief_inaccessible", choices=["x", "y"], gold="A"), "Answer: A", 1, 1),
    (_fantom("belief_inaccessible", choices=["x", "y"], gold="A"), "A.", 1, 0),
    (_fantom("answerability_binary", gold="no"), "<answer>No</answer>", 1, 1),
    (_fantom("answerability_binary", gold="no"), "<answer>'no'</answer>", 1, 0),
    (_fantom("answerability_binary", gold="no"), "<answer>No, because</answer>", 1, 0),
    (_fantom("answerability_binary", gold="no"), "<answer>yes</answer>", 0, 0),
    (_fantom("info_accessibility_list", gold_list=["Javier", "Sara"]), "<answer>sara, Javier,</answer>", 1, 1),
    (_fantom("info_accessibility_list", gold_list=["Javier", "Sara"]), "<answer>['Sara', 'Javier']</answer>", 1, 0),
    (_fantom("info_accessibility_list", gold_list=["Javier", "Sara"]), "<answer>Sara and Javier</answer>", 1, 0),
    (_fantom("info_accessibility_list", gold_list=["Javier", "Sara"]), "<answer>Sara</answer>", 0, 0),
])
def test_fantom_scoring(doc, response, fair, paper):
    out = fantom.process_results(doc, [response])
    assert (out["acc"], out["acc_paper"]) == (fair, paper)
    assert out[f"acc_{doc['type']}"] == fair


def test_fantom_paper_multiple_blocks_become_a_list():
    doc = _fantom("answerability_binary", gold="yes")
    assert fantom.paper_prediction("<answer>yes</answer><answer>no</answer>") == ["yes", "no"]
    assert fantom.process_results(doc, ["<answer>yes</answer> ."])["acc_paper"] == 0


def test_sparse_tom_cells_need_both_probes():
    assert sparse.answer_word(' "beer", he said') == "beer"
    assert sparse.answer_word("Beer") != "beer"  # case-sensitive first-word match
    items = [
        ("unexpected_contents", "c1", True), ("unexpected_contents", "c1", False),
        ("unexpected_contents", "c2", True), ("unexpected_contents", "c2", True),
        ("unexpected_transfer", "t1", True), ("unexpected_transfer", "t1", True),
        ("irony", "i1", False),
    ]
    assert sparse.agg_contents(items) == 0.5
    assert sparse.agg_transfer(items) == 1.0
    assert sparse.agg_irony(items) == 0.0
    assert sparse.agg_fb_mean(items) == 0.75


def test_sparse_tom_swap_is_whole_word():
    assert sparse.swap_words("the red bread in the yellow drawer", "red", "yellow") == \
        "the yellow bread in the red drawer"


def test_seed_summary_population_std():
    results = {
        "results": {f"tomi_seed{s}": {"acc,none": v, "acc_stderr,none": 0.1, "alias": "x"}
                    for s, v in zip((12, 42, 96, 2012, 2024), (0.2, 0.4, 0.6, 0.4, 0.4))},
        "group_subtasks": {"tomi": [f"tomi_seed{s}" for s in (12, 42, 96, 2012, 2024)], "other": ["x"]},
    }
    out = seed_summary(results)
    assert set(out) == {"tomi"}
    assert out["tomi"]["acc,none"] == pytest.approx(0.4)
    assert out["tomi"]["acc_seed_std,none"] == pytest.approx(math.sqrt(0.016))
