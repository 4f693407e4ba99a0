"""ToMi tasks: loading (published files or the offline generator), prompts and scoring.

Free-form scoring follows EnigmaToM's two-container rule. Two scores are reported per doc:
``acc`` (default, strict parser: the answer must name the gold container and not the other one)
and ``acc_paper`` (the original lexical-overlap scorer, quirks included). See docs/benchmarks.md.
"""
from __future__ import annotations

import random
from typing import Any

from tom_harness.task_yamls.helpers import as_int, extract, mc_scores, one_container, read_json, to_dataset_dict
from tom_harness.task_yamls.helpers import vanilla_prompt

FAMILIES = ("first_order", "second_order", "reality", "memory")


def rows_from(data: dict, dataset: str, seed: int) -> list[dict]:
    """One doc per question, stories and questions in file order. ``shuffle_perm``: the order in
    which EnigmaToM's TimeToM showed (alternative container, answer), one two-way
    ``random.shuffle`` per question in file order from ``random.Random(seed)``."""
    rng = random.Random(seed if seed >= 0 else 0)
    rows = []
    for story_id, story in data.items():
        containers = [str(c) for c in story["containers"]]
        for qi, q in enumerate(story["questions"]):
            perm = [0, 1]
            rng.shuffle(perm)
            gold = str(q["answer"])
            rows.append({
                "story_id": str(story_id), "q_index": qi, "dataset": dataset, "seed": seed,
                "narrative": story["narrative"], "narrative_type": story.get("narrative_type", ""),
                "question": q["question"], "reduced_question": q.get("reduced_question"),
                "question_type": q["question_type"], "answer": gold,
                "alternative": str(q.get("alternative container", "")),
                "containers": containers,
                "mc_choices": [c.replace("_", " ") for c in containers],
                "mc_gold": containers.index(gold) if gold in containers else -1,
                "shuffle_perm": perm,
            })
    return rows


def load_tomi(tomh_file: str = "tomi_seed12.json", tomh_seed: Any = -1, **_: Any):
    """``custom_dataset`` for the published files (lm-eval also passes metadata; ignored)."""
    seed = as_int(tomh_seed, "tomh_seed")
    return to_dataset_dict(rows_from(read_json("tomi", tomh_file), "tomi", seed), f"tomi/{tomh_file}")


def load_tomi_gen(gen_stories: Any = 200, gen_seed: Any = 0, **_: Any):
    """``custom_dataset`` for generated stories; no files needed. Override with
    ``--metadata '{"gen_stories": 500, "gen_seed": 3}'``."""
    from tom_harness import tomi_stories

    data = tomi_stories(as_int(gen_stories, "gen_stories"), as_int(gen_seed, "gen_seed"))
    return to_dataset_dict(rows_from(data, "tomi_gen", -1), "generator tomi_stories")


# -- prompts ------------------------------------------------------------------------------------

def doc_to_text(doc: dict) -> str:
    """Free-form prompt: events, instruction, then the question last (interventions rely on it)."""
    options = ", ".join(c.replace("_", " ") for c in doc["containers"])
    return (
        f"Events:\n{doc['narrative']}\n\n"
        "Using the events above, answer the question below without any explanation. "
        "Pick one of the listed options and write it between <answer> and </answer>.\n\n"
        f"Question:\n{doc['question']}\nOptions: {options}\nAnswer:"
    )


def doc_to_text_paper(doc: dict) -> str:
    """``protocol: paper``: EnigmaToM's vanilla prompt, from its template (question last)."""
    return vanilla_prompt(doc)


def doc_to_text_mc(doc: dict) -> str:
    return f"Events:\n{doc['narrative']}\n\nQuestion:\n{doc['question']}\nAnswer:"


# -- scoring ------------------------------------------------------------------------------------

def family_of(question_type: str) -> str:
    return next((f for f in FAMILIES if question_type.startswith(f)), "other")


def breakdown(doc: dict, correct: float) -> dict[str, float]:
    """Per question family, and ToM vs no-ToM for the belief questions."""
    qt = doc["question_type"]
    out = {f"acc_{family_of(qt)}": correct}
    if qt.endswith("_no_tom"):
        out["acc_no_tom"] = correct
    elif qt.endswith("_tom"):
        out["acc_tom"] = correct
    return out


def fair_correct(answer: str, doc: dict) -> bool:
    """Right iff the answer names the gold container, no other container of the story, and
    does not negate (strict rules: ``helpers.one_container``)."""
    return one_container(answer, doc["containers"]) == doc["answer"]


def _drop(text: str, junk: tuple[str, ...]) -> str:
    for piece in junk:
        text = text.replace(piece, "")
    return text


def _paper_clean(text: str) -> str:
    return _drop(text.lower().replace("_", " "), ("'s", ".", '"', "'", "[", "]"))


def _paper_strip_article(word: str) -> str:
    # The original strips these as raw character prefixes, in this order, without a word
    # boundary ("another" -> "other"); kept as is for the faithful score.
    for det in ("a", "an", "the"):
        if word.startswith(det):
            word = word[len(det):].strip()
    return _drop(word.lower(), ("'s", ".", '"', "'")).strip()


def _overlap(pred: str, location: str) -> float:
    pred_tokens, loc_tokens = _paper_clean(pred).split(), _paper_clean(location).split()
    hits = {t for t in pred_tokens if t in loc_tokens}
    return len(hits) / len(_paper_clean(location)) if location else 0.0


def paper_correct(response: str, doc: dict) -> bool:
    """EnigmaToM's free-form ToMi scorer, reimplemented with its behaviour (see docs)."""
    pred = response.split("Therefore")[-1].split("<answer>")[-1].split("</answer>")[0]
    pred = _paper_strip_article(pred.strip().lower())
    gold = _paper_strip_article(doc["answer"].strip().lower())
    others = [c for c in doc["containers"] if c != gold]
    if not others:
        return gold in pred
    return _overlap(pred, gold) > max(_overlap(pred, c.strip()) for c in others)


def process_results(doc: dict, results: list[str]) -> dict[str, float]:
    response = results[0]
    answer, tagged = extract(response)
    correct = float(fair_correct(answer, doc))
    return {
        "acc": correct, "acc_paper": float(paper_correct(response, doc)),
        "untagged": float(not tagged), **breakdown(doc, correct),
    }


def process_results_mc(doc: dict, results: list) -> dict[str, float]:
    _, scores = mc_scores(doc, results)
    return {**scores, **breakdown(doc, scores["acc"])}
