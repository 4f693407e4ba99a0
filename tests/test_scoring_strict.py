"""The strict default scorer (``acc``) on a table of crafted responses, every benchmark.

Each row: a task's doc, a model response (what lm-eval hands ``process_results``; under the
default protocol generation stops at ``</answer>``, so tagged answers are usually unclosed),
and whether ``acc`` must credit it. Rules: task_yamls/answers.py and docs/benchmarks.md.
"""
from __future__ import annotations

import pytest

from tom_harness.task_yamls import answers as _answers

from .task_utils import load_utils

tomi, hitom, fantom, sparse, bigtom = (load_utils(f) for f in ("tomi", "hitom", "fantom", "sparse_tom", "bigtom"))

TOMI = {"answer": "cupboard", "containers": ["basket", "cupboard"], "question_type": "first_order_0_tom"}
TOMI2 = {"answer": "red_drawer", "containers": ["green_basket", "red_drawer"], "question_type": "reality"}
HITOM_OPTIONS = ["green bottle", "red basket", "green bucket", "green box", "blue container", "red drawer",
                 "blue bucket", "green envelope", "blue bathtub", "blue crate", "red envelope", "red box",
                 "green crate", "green basket", "red bucket"]
HITOM = {"choices": HITOM_OPTIONS, "gold_letter": "E", "question_order": 2}          # E = blue container
HITOM_I = dict(HITOM, gold_letter="I")                                             # I = blue bathtub
HITOM_L = dict(HITOM, gold_letter="L")                                             # L = red box
HITOM_A = dict(HITOM, gold_letter="A")
BELIEF = {"type": "belief_inaccessible", "gold": "B", "gold_list": [],
          "choices": ["Gianna believes that Sara and Javier discussed their pets.",
                      "Gianna does not know who discussed their pets."]}
BELIEF_ACC = dict(BELIEF, type="belief_accessible", gold="A")
NAMES = ["Adelyn", "Bennett", "Carter", "Dana"]
ANS_LIST = {"type": "answerability_list", "choices": NAMES, "gold": "", "gold_list": ["Bennett", "Adelyn"]}
INFO_LIST = dict(ANS_LIST, type="info_accessibility_list")
ANS_BIN = {"type": "answerability_binary", "choices": [], "gold": "no", "gold_list": []}
INFO_BIN = {"type": "info_accessibility_binary", "choices": [], "gold": "yes", "gold_list": []}
BIGTOM = {"choices": ["Aniket believes the coral formation is healthy.", "Aniket believes the coral formation is damaged."],
          "gold_letter": "A", "q_type": "0_forward_belief_true_control", "condition": "true_control"}
BIGTOM_B = dict(BIGTOM, gold_letter="B")
SPARSE = {"subtask": "unexpected_contents", "cell": "c", "expected": "beer"}
SPARSE_IRONY = {"subtask": "irony", "cell": "i", "expected": "No"}


def _acc(task: str, doc: dict, response: str) -> float:
    module = {"tomi": tomi, "hitom": hitom, "fantom": fantom, "sparse_tom": sparse, "bigtom": bigtom}[task]
    out = module.process_results(doc, [response])
    return out["probe_acc"] if task == "sparse_tom" else out["acc"]


CASES = [
    # -- ToMi: one container, the gold one, no negation ---------------------------------------
    ("tomi", TOMI, "<answer>cupboard", 1),
    ("tomi", TOMI, "<answer>the cupboard</answer>", 1),
    ("tomi", TOMI, "<answer>Cupboard.", 1),
    ("tomi", TOMI, "<answer>In the cupboard", 1),
    ("tomi", TOMI, "<answer>basket", 0),
    ("tomi", TOMI, "<answer>cupboard or basket", 0),                 # hedge: both containers
    ("tomi", TOMI, "<answer>basket, then cupboard", 0),
    ("tomi", TOMI, "<answer>not the basket", 0),                     # negation
    ("tomi", TOMI, "<answer>It isn't in the cupboard", 0),
    ("tomi", TOMI, "cupboard</answer>", 1),                          # stray closing tag
    ("tomi", TOMI, "basket</answer>", 0),
    ("tomi", TOMI, "The answer is cupboard.", 1),                    # untagged lead-in
    ("tomi", TOMI, "I answered basket", 0),                          # "answered" is no lead-in
    ("tomi", TOMI, "<answer>I don't know", 0),
    ("tomi", TOMI, "", 0),
    ("tomi", TOMI2, "<answer>red drawer", 1),                        # "_" = space
    ("tomi", TOMI2, "<answer>red_drawer", 1),
    ("tomi", TOMI2, "<answer>drawer", 0),                            # part of a name is not the name
    ("tomi", TOMI2, "<answer>green basket or red drawer", 0),
    # -- Hi-ToM: 15 lettered options A-O ---------------------------------------------------------
    ("hitom", HITOM, "<answer>E", 1),
    ("hitom", HITOM, "<answer>e", 1),
    ("hitom", HITOM, "<answer>E.", 1),
    ("hitom", HITOM, "<answer>(E)", 1),
    ("hitom", HITOM, "<answer>E)", 1),
    ("hitom", HITOM, "<answer>E:", 1),
    ("hitom", HITOM, "<answer>**E**", 1),
    ("hitom", HITOM, "<answer>Option E", 1),
    ("hitom", HITOM, "<answer>E. blue container", 1),
    ("hitom", HITOM, "<answer>E blue_container", 1),
    ("hitom", HITOM, "<answer>blue container", 1),
    ("hitom", HITOM, "<answer>the blue container.", 1),
    ("hitom", HITOM, "<answer>E. red box", 0),                       # letter and another option's text
    ("hitom", HITOM, "<answer>E or F", 0),                           # hedge
    ("hitom", HITOM, "<answer>E/F", 0),
    ("hitom", HITOM, "<answer>(E", 0),                               # unbalanced bracket
    ("hitom", HITOM, "<answer>blue container or red drawer", 0),
    ("hitom", HITOM, "<answer>P", 0),                                # out of range
    ("hitom", HITOM_I, "I think the tomato is in the blue bathtub", 0),   # "I" is a word here
    ("hitom", HITOM_I, "<answer>I think the tomato is in the blue bathtub", 0),
    ("hitom", HITOM_I, "<answer>I", 1),
    ("hitom", HITOM_I, "<answer>I or M", 0),
    ("hitom", HITOM_A, "<answer>A red box", 0),                      # article, not letter A
    ("hitom", HITOM_L, "<answer>A red box", 0),                      # ... nor a clear "red box"
    ("hitom", HITOM_L, "<answer>a red box", 1),                      # lowercase article + option text
    ("hitom", HITOM_A, "A tomato is in the green bottle", 0),
    ("hitom", HITOM, "Answer: E", 1),
    ("hitom", HITOM, "The answer is E.", 1),
    ("hitom", HITOM, "E</answer>", 1),
    ("hitom", HITOM, "<answer>E</answer> <answer>F</answer>", 0),    # blocks disagree: hedge
    ("hitom", HITOM, "<answer>", 0),
    # -- FANToM belief (two sentences, A/B) -------------------------------------------------------
    ("fantom", BELIEF, "<answer>B", 1),
    ("fantom", BELIEF, "<answer>B. Gianna does not know who discussed their pets.", 1),
    ("fantom", BELIEF, "<answer>Gianna does not know who discussed their pets", 1),
    ("fantom", BELIEF, "<answer>A or B", 0),
    ("fantom", BELIEF, "<answer>B. Gianna believes that Sara and Javier discussed their pets.", 0),
    ("fantom", BELIEF, "<answer>A", 0),
    ("fantom", BELIEF, "B.", 1),
    ("fantom", BELIEF, "<answer>Both", 0),
    ("fantom", BELIEF_ACC, "<answer>A", 1),
    ("fantom", BELIEF_ACC, "<answer>A Gianna", 0),
    ("fantom", BELIEF_ACC, "Answer: A", 1),
    ("fantom", BELIEF_ACC, "<answer>a)", 1),
    # -- FANToM lists ------------------------------------------------------------------------------
    ("fantom", ANS_LIST, "<answer>Bennett, Adelyn", 1),
    ("fantom", ANS_LIST, "<answer>adelyn, bennett.", 1),
    ("fantom", ANS_LIST, "<answer>['Bennett', 'Adelyn']", 1),
    ("fantom", ANS_LIST, "<answer>Bennett and Adelyn", 1),
    ("fantom", ANS_LIST, "<answer>Both Bennett and Adelyn", 1),
    ("fantom", ANS_LIST, "The characters who know are: Bennett, Adelyn", 1),   # untagged sentence
    ("fantom", ANS_LIST, "<answer>Bennett", 0),
    ("fantom", ANS_LIST, "<answer>Bennett, Adelyn, Carter", 0),
    ("fantom", ANS_LIST, "<answer>Bennett or Adelyn", 0),
    ("fantom", ANS_LIST, "<answer>Bennett, Adelyn, and maybe Carter", 0),      # not a shown name
    ("fantom", INFO_LIST, "<answer>Bennett; Adelyn", 1),
    ("fantom", INFO_LIST, "<answer>Bennett/Adelyn", 0),
    ("fantom", INFO_LIST, "<answer>Everyone", 0),
    ("fantom", INFO_LIST, "<answer>None of them", 0),
    # -- FANToM yes/no ---------------------------------------------------------------------------
    ("fantom", ANS_BIN, "<answer>no", 1),
    ("fantom", ANS_BIN, "<answer>No.", 1),
    ("fantom", ANS_BIN, "<answer>'no'", 1),
    ("fantom", ANS_BIN, "<answer>No, she was not there", 1),
    ("fantom", ANS_BIN, "<answer>No idea", 0),                       # refusal, not "no"
    ("fantom", ANS_BIN, "<answer>no way to tell", 0),
    ("fantom", ANS_BIN, "<answer>yes or no", 0),                     # hedge
    ("fantom", ANS_BIN, "<answer>yes/no", 0),
    ("fantom", ANS_BIN, "<answer>Not sure", 0),
    ("fantom", ANS_BIN, "<answer>yes", 0),
    ("fantom", INFO_BIN, "<answer>Yes", 1),
    ("fantom", INFO_BIN, "<answer>**Yes**", 1),
    ("fantom", INFO_BIN, "Yes, she knows.", 1),
    ("fantom", INFO_BIN, "<answer>Yes. No.", 0),
    ("fantom", INFO_BIN, "<answer>Yeah", 0),
    ("fantom", INFO_BIN, "<answer>Yes and no", 0),
    # -- BigToM: two-sentence choice (A = healthy, B = damaged) --------------------------------------
    ("bigtom", BIGTOM, "<answer>A", 1),
    ("bigtom", BIGTOM, "<answer>a.", 1),
    ("bigtom", BIGTOM, "<answer>Aniket believes the coral formation is healthy.", 1),
    ("bigtom", BIGTOM, "<answer>A. Aniket believes the coral formation is healthy", 1),
    ("bigtom", BIGTOM, "<answer>A or B", 0),
    ("bigtom", BIGTOM, "<answer>A Aniket believes the coral formation is damaged.", 0),
    ("bigtom", BIGTOM_B, "<answer>B", 1),
    ("bigtom", BIGTOM_B, "<answer>damaged", 0),                   # a word of an option is not the option
    ("bigtom", BIGTOM_B, "<answer>both", 0),
    # -- sparse_tom: first word, exact case; a hedged completion is wrong ------------------------
    ("sparse_tom", SPARSE, " beer.", 1),
    ("sparse_tom", SPARSE, "\n\nbeer", 1),                           # leading blank line stripped
    ("sparse_tom", SPARSE, ' "beer", he said', 1),
    ("sparse_tom", SPARSE, " Beer", 0),                              # case-sensitive, as Wu et al.
    ("sparse_tom", SPARSE, " wine", 0),
    ("sparse_tom", SPARSE, " beer or wine", 0),                      # hedge
    ("sparse_tom", SPARSE, " beer and then", 1),
    ("sparse_tom", SPARSE, "", 0),
    ("sparse_tom", SPARSE_IRONY, " No, he", 1),
    ("sparse_tom", SPARSE_IRONY, " Yes", 0),
]


@pytest.mark.parametrize("task, doc, response, expected", CASES,
                         ids=[f"{i:03d}-{c[0]}-{c[2][:30]!r}" for i, c in enumerate(CASES)])
def test_strict_verdict(task, doc, response, expected):
    assert _acc(task, doc, response) == expected


def test_table_covers_every_benchmark_and_fantom_type():
    assert len(CASES) >= 80
    assert {c[0] for c in CASES} == {"tomi", "hitom", "fantom", "bigtom", "sparse_tom"}
    assert {c[1]["type"] for c in CASES if c[0] == "fantom"} == {
        "belief_accessible", "belief_inaccessible", "answerability_list", "answerability_binary",
        "info_accessibility_list", "info_accessibility_binary"}
    assert {c[3] for c in CASES} == {0, 1}


@pytest.mark.parametrize("text, answer", [
    ("basket</answer>", "basket"),
    ("I answered basket", "I answered basket"),
    ("Final answer: B", "B"),
    ("<answer>The answer is B</answer>", "B"),
])
def test_lead_in_is_a_whole_word(text, answer):
    assert _answers.extract(text)[0] == answer
