"""FANToM (short conversations): belief as a two-way choice, answerability and info-accessibility
as name lists and yes/no. One task per seed file pools all six question types, as EnigmaToM
reports; each type also gets its own metric (``acc_<type>``).
"""
from __future__ import annotations

import random
from typing import Any

from tom_harness.task_yamls.helpers import (
    LETTERS, as_int, extract, letter_of, lettered, name_list, read_json, to_dataset_dict, yes_no,
)
from tom_harness.task_yamls.helpers import vanilla_prompt

TYPES = ("belief_accessible", "belief_inaccessible", "answerability_list", "answerability_binary",
         "info_accessibility_list", "info_accessibility_binary")


def short_type(question_type: str) -> str:
    """``tom:belief:accessible`` -> ``belief_accessible``."""
    return "_".join(question_type.split(":")[1:])


def choice_fields(q: dict, kind: str, rng: random.Random) -> tuple[list[str], str, list[str], list[str], list[int]]:
    """(choices, gold, gold_list, pair, perm) of one question, drawing exactly one two-element
    shuffle (``pair``: the shuffled two-way list, ``perm``: the permutation it applied).

    EnigmaToM (``MaskToMEvaluator.__order_mc_questions``) shuffles ``[str(wrong), str(correct)]``
    (``_`` -> space) for every question that has a wrong answer, and ``[correct, other]`` for
    yes/no questions, so every question advances the stream by one 2-way shuffle. Belief
    questions show that order (gold = the correct answer's letter); list questions' shuffle is
    discarded (the original displayed ``str(list(set(names)))``, whose order is not
    reproducible) and the names are shown sorted; yes/no questions discard it too.
    """
    correct, wrong = q["correct_answer"], q.get("wrong_answer")
    if wrong is None:
        pair = [str(correct), "yes" if str(correct) == "no" else "no"]
    else:
        pair = [str(wrong).replace("_", " "), str(correct).replace("_", " ")]
    perm = [0, 1]
    rng.shuffle(perm)
    pair = [pair[i] for i in perm]
    if kind.startswith("belief"):
        return pair, LETTERS[pair.index(str(correct).replace("_", " "))], [], pair, perm
    if kind.endswith("_list"):
        names = sorted({str(n) for n in list(correct) + list(wrong or [])})
        return names, "", [str(n) for n in correct], pair, perm
    return [], str(correct).strip().lower(), [], pair, perm


def rows_from(data: dict, dataset: str, seed: int) -> list[dict]:
    """One doc per question; ``random.Random(seed)`` once per file (EnigmaToM seeds once per
    seed file with that file's seed), then one shuffle per question in file order."""
    rng = random.Random(seed if seed >= 0 else 0)
    rows = []
    for conv_id, conv in data.items():
        for qi, q in enumerate(conv["questions"]):
            kind = short_type(q["question_type"])
            correct = q["correct_answer"]
            choices, gold, gold_list, pair, perm = choice_fields(q, kind, rng)
            wrong = q.get("wrong_answer")
            rows.append({
                "story_id": str(conv_id), "q_index": qi, "dataset": dataset, "seed": seed,
                "narrative": conv["narrative"], "question": q["question"],
                "reduced_question": q.get("reduced_question"),
                "question_type": q["question_type"], "type": kind, "tom_type": q.get("tom_type"),
                "choices": choices, "gold": gold, "gold_list": gold_list,
                "correct_answer": correct if isinstance(correct, str) else ", ".join(correct),
                "pair": pair, "shuffle_perm": perm,
                "wrong_answer": "" if wrong is None else wrong if isinstance(wrong, str) else "",
                "wrong_list": [str(n) for n in wrong] if isinstance(wrong, list) else [],
            })
    return rows


def load_fantom(tomh_file: str = "fantom_seed12.json", tomh_seed: Any = -1, **_: Any):
    seed = as_int(tomh_seed, "tomh_seed")
    return to_dataset_dict(rows_from(read_json("fantom", tomh_file), "fantom", seed), f"fantom/{tomh_file}")


# -- prompts ------------------------------------------------------------------------------------

def doc_to_text(doc: dict) -> str:
    kind = doc["type"]
    if kind.startswith("belief"):
        how = "pick the right choice for the question below. Write only its letter"
        tail = f"\nChoices:\n{lettered(doc['choices'])}"
    elif kind.endswith("_list"):
        how = ("list every character the question below asks for, separated by commas. "
               "Write the list")
        tail = f"\nCharacters: {', '.join(doc['choices'])}"
    else:
        how = "answer the question below with yes or no. Write it"
        tail = ""
    return (f"Events:\n{doc['narrative']}\n\nUsing the conversation above, {how} between "
            f"<answer> and </answer>, without any explanation.\n\n"
            f"Question:\n{doc['question']}{tail}\nAnswer:")


def doc_to_text_paper(doc: dict) -> str:
    """``protocol: paper``: EnigmaToM's vanilla prompt, from its template (question and choices
    before the instruction; yes/no questions keep their ``Choices: ["yes", "no"]`` line)."""
    return vanilla_prompt(doc)


def doc_to_target(doc: dict) -> str:
    return ", ".join(doc["gold_list"]) if doc["type"].endswith("_list") else doc["gold"]


# -- scoring ------------------------------------------------------------------------------------

def fair_correct(answer: str, doc: dict) -> bool:
    """Strict rules (``helpers``): one letter or option text; the exact set of names, each a
    shown name; a standalone yes/no."""
    kind = doc["type"]
    if kind.startswith("belief"):
        return letter_of(answer, doc["choices"]) == doc["gold"]
    if kind.endswith("_list"):
        return name_list(answer, doc["choices"]) == {n.lower() for n in doc["gold_list"]}
    return yes_no(answer) == doc["gold"]


def paper_prediction(response: str) -> str | list[str]:
    """EnigmaToM's FANToM parsing (several tag blocks become a list; untagged: after the last
    ":" then after the first ".")."""
    if "<answer>" in response:
        segments = [s for s in response.split("</answer>") if s.strip()]
        if len(segments) > 1:
            inner = (s.split("<answer>")[-1].strip().lower() for s in segments)
            return [s for s in inner if s.strip()]
        return segments[0].split("<answer>")[-1].strip().lower().split(".", 1)[0].lower()
    return response.rsplit(":")[-1].strip().split(".", 1)[-1].lower()


def paper_correct(response: str, doc: dict) -> bool:
    pred = paper_prediction(response)
    if doc["type"].endswith("_list"):
        items = pred.split(",") if isinstance(pred, str) else pred
        items = [i.strip().replace('"', "").replace("'", "") for i in items]
        return sorted(i.lower() for i in items if i.strip()) == sorted(n.lower() for n in doc["gold_list"])
    return pred == doc["gold"].lower()


def process_results(doc: dict, results: list[str]) -> dict[str, float]:
    response = results[0]
    answer, tagged = extract(response)
    correct = float(fair_correct(answer, doc))
    out = {"acc": correct, "acc_paper": float(paper_correct(response, doc)),
           "untagged": float(not tagged), f"acc_{doc['type']}": correct}
    if doc["type"].startswith("belief"):
        out["acc_belief"] = correct
    return out
