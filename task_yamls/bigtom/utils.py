"""BigToM tasks (Gandhi et al., 2023): a two-way choice between two belief sentences.

Every question comes with ``true_answer`` and ``wrong_answer``. Both variants show them as
options A and B. Their order is fixed per item, not per file: the true answer comes first when
the first hex digit of ``sha256("<story_id>:<q_index>")`` is even. The same item therefore has
the same order in a seed file and in the full file, and the gold position is near balanced
(true answer first in 44-56 of each seed file's 100 items, 828 of the full file's 1,600) without
alternating.

``q_type`` is ``<order>_forward_belief_<true|false>_<belief|control>``: the protagonist perceives
the story's last event (``true``) or not (``false``); that event changes the asked-about state
(``belief``) or is irrelevant (``control``). Metrics: ``acc``, ``acc_<q_type>`` for the eight
types, the pooled conditions ``acc_{true,false}_{belief,control}``, and ``fb_minus_control``:
accuracy on false-belief items minus accuracy on their matched controls (``false_control``:
the protagonist misses an event that changes nothing), the false-belief cost.
"""
from __future__ import annotations

import hashlib
from typing import Any

from tom_harness.task_yamls.helpers import (
    LETTERS, as_int, extract, letter_of, lettered, mc_scores, read_json, to_dataset_dict,
)

CONDITIONS = ("true_belief", "false_belief", "true_control", "false_control")


def parse_q_type(q_type: str) -> tuple[int, str]:
    """``1_forward_belief_false_control`` -> ``(1, "false_control")``."""
    order, _, rest = q_type.partition("_forward_belief_")
    if not rest or rest not in CONDITIONS or not order.isdigit():
        raise ValueError(f"unexpected BigToM q_type {q_type!r}")
    return int(order), rest


def true_first(story_id: str, q_index: int) -> bool:
    """The documented per-item order rule (see the module doc)."""
    return int(hashlib.sha256(f"{story_id}:{q_index}".encode()).hexdigest()[0], 16) % 2 == 0


def rows_from(data: dict, dataset: str, seed: int) -> list[dict]:
    """One doc per question, stories and questions in file order."""
    rows = []
    for story_id, story in data.items():
        for qi, q in enumerate(story["questions"]):
            right, wrong = str(q["true_answer"]), str(q["wrong_answer"])
            choices = [right, wrong] if true_first(str(story_id), qi) else [wrong, right]
            order, condition = parse_q_type(q["q_type"])
            gold = choices.index(right)
            rows.append({
                "story_id": str(story_id), "q_index": qi, "dataset": dataset, "seed": seed,
                "narrative": story["narrative"], "question": q["question"],
                "reduced_question": q.get("reduced_question"), "q_type": q["q_type"],
                "belief_order": order, "condition": condition, "answer": right, "wrong_answer": wrong,
                "choices": choices, "gold_letter": LETTERS[gold], "mc_choices": choices, "mc_gold": gold,
            })
    return rows


def load_bigtom(tomh_file: str = "bigtom_seed12.json", tomh_seed: Any = -1, **_: Any):
    seed = as_int(tomh_seed, "tomh_seed")
    return to_dataset_dict(rows_from(read_json("bigtom", tomh_file), "bigtom", seed), f"bigtom/{tomh_file}")


# -- prompts ------------------------------------------------------------------------------------

def doc_to_text(doc: dict) -> str:
    return (
        f"Story:\n{doc['narrative']}\n\n"
        "Using the story above, pick the true statement for the question below without any "
        "explanation. Write only its letter between <answer> and </answer>.\n\n"
        f"Question:\n{doc['question']}\nChoices:\n{lettered(doc['choices'])}\nAnswer:"
    )


def doc_to_text_mc(doc: dict) -> str:
    return f"Story:\n{doc['narrative']}\n\nQuestion:\n{doc['question']}\nAnswer:"


# -- scoring ------------------------------------------------------------------------------------

def breakdown(doc: dict, correct: float) -> dict[str, Any]:
    """Per q_type, per pooled condition, and the item for ``fb_minus_control``."""
    return {f"acc_{doc['q_type']}": correct, f"acc_{doc['condition']}": correct,
            "fb_minus_control": (doc["condition"], correct)}


def agg_fb_minus_control(items: list) -> float:
    """Accuracy on false-belief items minus accuracy on false-control items (nan if either
    condition has no item, e.g. under a small ``--limit``)."""
    def rate(cond: str) -> float:
        hits = [c for k, c in items if k == cond]
        return sum(hits) / len(hits) if hits else float("nan")

    return rate("false_belief") - rate("false_control")


def process_results(doc: dict, results: list[str]) -> dict[str, Any]:
    answer, tagged = extract(results[0])
    correct = float(letter_of(answer, doc["choices"]) == doc["gold_letter"])
    return {"acc": correct, "untagged": float(not tagged), **breakdown(doc, correct)}


def process_results_mc(doc: dict, results: list) -> dict[str, Any]:
    _, scores = mc_scores(doc, results)
    return {**scores, **breakdown(doc, scores["acc"])}
