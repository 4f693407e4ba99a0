"""Hi-ToM tasks: 15-way lettered multiple choice, free-form ``<answer>`` letter and log-likelihood.

Choice order follows EnigmaToM: options split on ",", letters stripped, ``_`` -> space, then one
``random.shuffle`` per question in file order from ``random.Random(seed)``; gold = new letter.
"""
from __future__ import annotations

import random
import re
from typing import Any

from tom_harness.task_yamls.helpers import (
    LETTERS, as_int, extract, letter_of, lettered, mc_scores, read_json, to_dataset_dict,
)
from tom_harness.task_yamls.helpers import vanilla_prompt

ORDERS = range(5)


def split_choices(choices: str) -> list[str]:
    """``"A. green_bottle, B. red_basket"`` -> ``["green bottle", "red basket"]``."""
    parts = [re.sub(r"^\s*[A-Z]\.\s*", "", p) for p in choices.split(",")]
    return [p.strip().replace("_", " ") for p in parts if p.strip()]


def rows_from(data: dict, dataset: str, seed: int, shuffle_seed: int | None = None) -> list[dict]:
    """``seed`` is the doc's seed field (-1: full or generated); choices are shuffled with
    ``shuffle_seed`` (default: ``seed``, 0 when that is -1)."""
    base = seed if shuffle_seed is None else shuffle_seed
    rng = random.Random(base if base >= 0 else 0)
    rows = []
    for story_id, story in data.items():
        for qi, q in enumerate(story["questions"]):
            raw = [p.split(".", 1)[-1].strip() for p in q["choices"].split(",")]
            perm = list(range(len(raw)))
            rng.shuffle(perm)  # the permutation random.shuffle applies to any list of this length
            options = [split_choices(q["choices"])[i] for i in perm]
            gold = str(q["answer"]).replace("_", " ")
            if gold not in options:
                raise ValueError(f"hitom story {story_id} question {qi}: gold {gold!r} not among choices")
            idx = options.index(gold)
            rows.append({
                "story_id": str(story_id), "q_index": qi, "dataset": dataset, "seed": seed,
                "narrative": story["narrative"], "deception": bool(story.get("deception", False)),
                "story_length": int(story.get("stroy_length", story.get("story_length", 0))),
                "question": q["question"], "reduced_question": q.get("reduced_question"),
                "question_order": int(q["question_order"]), "answer": gold,
                "choices": options, "gold_letter": LETTERS[idx],
                "mc_choices": options, "mc_gold": idx,
                "options_raw": [raw[i] for i in perm],  # as TimeToM showed them (no "_" -> " ")
            })
    return rows


def load_hitom(tomh_file: str = "hitom_seed12.json", tomh_seed: Any = -1, **_: Any):
    seed = as_int(tomh_seed, "tomh_seed")
    return to_dataset_dict(rows_from(read_json("hitom", tomh_file), "hitom", seed), f"hitom/{tomh_file}")


def load_hitom_gen(gen_stories: Any = 100, gen_seed: Any = 0, gen_max_order: Any = 4,
                   gen_deception: Any = True, **_: Any):
    """Generated Hi-ToM-style stories (override via ``--metadata``)."""
    from tom_harness import hitom_stories

    seed = as_int(gen_seed, "gen_seed")
    data = hitom_stories(as_int(gen_stories, "gen_stories"), seed,
                         max_order=as_int(gen_max_order, "gen_max_order"),
                         deception=str(gen_deception).lower() not in ("false", "0", "no"))
    return to_dataset_dict(rows_from(data, "hitom_gen", -1, shuffle_seed=seed), "generator hitom_stories")


# -- prompts ------------------------------------------------------------------------------------

def doc_to_text(doc: dict) -> str:
    return (
        f"Events:\n{doc['narrative']}\n\n"
        "Using the events above, pick the right choice for the question below without any "
        "explanation. Write only its letter between <answer> and </answer>.\n\n"
        f"Question:\n{doc['question']}\nChoices:\n{lettered(doc['choices'])}\nAnswer:"
    )


def doc_to_text_paper(doc: dict) -> str:
    """``protocol: paper``: EnigmaToM's vanilla prompt, from its template (question and choices
    before the instruction)."""
    return vanilla_prompt(doc)


def doc_to_text_mc(doc: dict) -> str:
    return (f"Events:\n{doc['narrative']}\n\nQuestion:\n{doc['question']}\n"
            f"Choices: {', '.join(doc['choices'])}\nAnswer:")


# -- scoring ------------------------------------------------------------------------------------

def paper_letter(response: str) -> str:
    """EnigmaToM's Hi-ToM parsing: first tag block, else text before the first ":" and ".";
    then cut at the first ".", lowercase."""
    if "<answer>" in response:
        pred = response.split("</answer>")[0].split("<answer>")[-1]
    else:
        pred = response.split(":")[0].strip().split(".", 1)[0]
    return pred.strip().lower().split(".")[0].strip()


def by_order(doc: dict, correct: float) -> dict[str, float]:
    return {f"acc_order{doc['question_order']}": correct}


def process_results(doc: dict, results: list[str]) -> dict[str, float]:
    response = results[0]
    answer, tagged = extract(response)
    correct = float(letter_of(answer, doc["choices"]) == doc["gold_letter"])
    return {
        "acc": correct, "acc_paper": float(paper_letter(response) == doc["gold_letter"].lower()),
        "untagged": float(not tagged), **by_order(doc, correct),
    }


def process_results_mc(doc: dict, results: list) -> dict[str, float]:
    _, scores = mc_scores(doc, results)
    return {**scores, **by_order(doc, scores["acc"])}
