"""FANToM choice order and gold letters equal EnigmaToM's (seacowx/EnigmaToM@eb8b8b5).

The original (``src/methods/masktom.py``) calls ``random.seed(seed)`` in ``run_masktom``, i.e.
once per seed file and prompt configuration with *that file's* seed (``run_exps.py`` loops
over ``(seed, data_path)`` pairs), then ``__order_mc_questions`` draws one ``random.shuffle``
per question, conversations and questions in file order.
"""
from __future__ import annotations

import ast
import json
import random
import string

import pytest

from .task_utils import load_utils

SEEDS = (12, 42, 96, 2012, 2024)


fantom = load_utils("fantom")


def _seed_file(shared_data, seed: int) -> dict:
    return json.loads((shared_data / "fantom" / f"fantom_seed{seed}.json").read_text(encoding="utf-8"))


def test_seed12_letters_worked_by_hand(shared_data):
    """Hand working. ``random.shuffle`` of a 2-list draws ``j = _randbelow(2)``, which takes
    ``getrandbits(2)`` until the value is < 2, then swaps x[1] and x[j]: j = 1 keeps
    ``[wrong, correct]`` (gold B), j = 0 gives ``[correct, wrong]`` (gold A).
    ``random.Random(12).getrandbits(2)`` yields 1 1 2 2 2 1 0 1 0 3 1 1 1 2 3 1 2 3 2 0 2 0 2 2
    0 3 1 1 0 1 3 0 0 2 3 0 0 ... Conversation 3019024262 then 2304602151, questions in order:
      q0 belief    <- 1            -> B      q1 belief  <- 1        -> B
      q2 list      <- 2,2,2 rej, 1 (discarded)   q3 list <- 0
      q4..q7 yes/no <- 1; 0; 3 rej, 1; 1
      q8 belief    <- 1            -> B
      q9 list      <- 2,3 rej, 1   q10 list <- 2,3,2 rej, 0
      q11 belief   <- 2 rej, 0     -> A      q12 belief <- 2,2 rej, 0 -> A
      q13 belief   <- 3 rej, 1     -> B
      q14, q15 lists <- 1; 0       q16..q19 yes/no <- 1; 3 rej, 0; 0; 2,3 rej, 0
      q20 belief   <- 0            -> A
    Shuffling the five names of q2 instead (the old code) would take four draws there.
    """
    rows = fantom.rows_from(_seed_file(shared_data, 12), "fantom", 12)
    expected = {0: "B", 1: "B", 8: "B", 11: "A", 12: "A", 13: "B", 20: "A"}
    assert {i: rows[i]["gold"] for i in expected} == expected
    assert all(rows[i]["type"].startswith("belief") for i in expected)
    q0 = rows[0]
    assert q0["choices"][1] == q0["correct_answer"]  # B: the correct answer stays second
    assert rows[11]["choices"][0] == rows[11]["correct_answer"]
    # list questions show their names sorted (documented), not in a drawn order
    assert rows[2]["choices"] == ["Alondra", "Angela", "Gianna", "Javier", "Sara"]
    assert rows[2]["gold_list"] == ["Javier", "Sara"]


def _original_order(data: dict, seed: int) -> list[tuple[str, object]]:
    """EnigmaToM's ``__order_mc_questions`` for FANToM, written its way (module ``random``)."""
    random.seed(seed)
    out = []
    for _, conv in data.items():
        for question in conv["questions"]:
            if "wrong_answer" not in question:
                wrong_answer = "yes" if question["correct_answer"] == "no" else "no"
                candidate_lst = [question["correct_answer"], wrong_answer]
            else:
                candidate_lst = [str(question[k]) for k in ("wrong_answer", "correct_answer")]
            candidate_lst = [c.replace("_", " ") for c in candidate_lst]
            random.shuffle(candidate_lst)
            correct_ans = str(question["correct_answer"]).replace("_", " ")
            if correct_ans in ("yes", "no"):
                out.append(("binary", correct_ans))
            elif "[" in correct_ans:
                out.append(("list", ast.literal_eval(correct_ans)))
            else:
                out.append((candidate_lst, string.ascii_uppercase[candidate_lst.index(correct_ans)]))
    return out


@pytest.mark.parametrize("seed", SEEDS)
def test_stream_equals_original_on_every_seed_file(shared_data, seed):
    data = _seed_file(shared_data, seed)
    ours = fantom.rows_from(data, "fantom", seed)
    theirs = _original_order(data, seed)
    assert len(ours) == len(theirs)
    n_belief = 0
    for row, (choices, gold) in zip(ours, theirs):
        if choices == "binary":
            assert row["type"].endswith("_binary") and row["gold"] == gold
        elif choices == "list":
            assert row["type"].endswith("_list") and row["gold_list"] == gold
        else:
            n_belief += 1
            assert (row["choices"], row["gold"]) == (choices, gold), row["question"]
    assert n_belief > 150


def test_a_list_question_draws_exactly_one_shuffle():
    """Five-name list and a belief question after it: the belief letter depends only on the
    number of earlier questions, not on how many names a list has."""
    belief = {"question_type": "tom:belief:accessible", "correct_answer": "c", "wrong_answer": "w",
              "question": "q"}
    many = {"question_type": "tom:answerability:list", "correct_answer": ["A", "B"],
            "wrong_answer": ["C", "D", "E"], "question": "q"}
    few = dict(many, wrong_answer=["C"])
    for seed in range(20):
        a = fantom.rows_from({"x": {"narrative": "n", "questions": [many, belief]}}, "fantom", seed)
        b = fantom.rows_from({"x": {"narrative": "n", "questions": [few, belief]}}, "fantom", seed)
        assert a[1]["gold"] == b[1]["gold"]
