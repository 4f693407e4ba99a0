"""Hi-ToM choice order and gold letters equal EnigmaToM's ``__order_mc_questions`` (split on
",", text after the first ".", ``_`` -> space, one ``random.shuffle`` per question after
``random.seed(<file seed>)``) on every seed file."""
from __future__ import annotations

import json
import random
import string

import pytest

from .task_utils import load_utils

hitom = load_utils("hitom")


def _original_order(data: dict, seed: int) -> list[tuple[list[str], str]]:
    random.seed(seed)
    out = []
    for _, story in data.items():
        for question in story["questions"]:
            candidate_lst = [e.split(".", 1)[-1].strip() for e in question["choices"].split(",")]
            candidate_lst = [e.replace("_", " ") for e in candidate_lst]
            random.shuffle(candidate_lst)
            correct = str(question["answer"]).replace("_", " ")
            out.append((candidate_lst, string.ascii_uppercase[candidate_lst.index(correct)]))
    return out


@pytest.mark.parametrize("seed", (12, 42, 96, 2012, 2024))
def test_hitom_stream_equals_original(shared_data, seed):
    data = json.loads((shared_data / "hitom" / f"hitom_seed{seed}.json").read_text(encoding="utf-8"))
    ours = [(r["choices"], r["gold_letter"]) for r in hitom.rows_from(data, "hitom", seed)]
    assert ours == _original_order(data, seed)
