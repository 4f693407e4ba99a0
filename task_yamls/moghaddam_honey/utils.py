"""Moghaddam & Honey (2023) tasks: 16 false-belief scenarios and 16 false-photo controls.

The prompt is the original scripts' (Z3R6X/ToM_in_small_LLMs ``ToM_Experiment/*.py``)::

    Read the scenario and answer the following question:\\n\\nScenario: <context> Question: <question> Answer:\\x20

The task declares where the prompt methods put their text (traits ``answer_cue``,
``item_start``, ``reasoning_cue``) and every doc carries the two worked examples of the original
two-shot CoT prompt already laid out as the original writes them (``worked_examples``), so the
built-in ``sbs`` and ``cot`` rows give the original SbS, CoT and SbS+CoT prompts.

Scoring: the rule-based judge of :mod:`tom_harness.task_yamls.yesno_judge` finds the
response's conclusion (``acc``: it is the correct one; inconclusive is wrong, as in the paper).
"""
from __future__ import annotations

from typing import Any

from tom_harness.task_yamls.helpers import judge_yes_no, read_json, to_dataset_dict

DATASET = "moghaddam_honey"
INSTRUCTION = "Read the scenario and answer the following question:\n\n"
EXAMPLES_FILE = "cot_examples.json"


def item_text(context: str, question: str) -> str:
    """One scenario in the original layout, up to the answer slot."""
    return f"Scenario: {context} Question: {question} Answer: "


def worked_examples(examples: list[dict]) -> str:
    """The original two-shot block: each example answered, then a blank line."""
    return "".join(item_text(e["context"], e["question"]) + e["answer"] + "\n\n" for e in examples)


def rows_from(data: dict, kind: str, examples: str) -> list[dict]:
    rows = []
    for s in data["scenarios"]:
        answer = str(s["correct_answer"]).strip().capitalize()
        if answer not in ("Yes", "No"):
            raise ValueError(f"{DATASET}/{kind} scenario {s.get('id')}: correct_answer {answer!r} is not Yes or No")
        rows.append({
            "story_id": f"{kind}{int(s['id'])}", "scenario": int(s["id"]), "kind": kind, "q_index": 0,
            "dataset": DATASET, "seed": -1, "narrative": s["context"], "question": s["question"],
            "answer": answer, "worked_examples": examples,
        })
    return rows


def load_mh(tomh_file: str = "belief_scenarios.json", **_: Any):
    kind = tomh_file.split("_", 1)[0]
    examples = worked_examples(read_json(DATASET, EXAMPLES_FILE)["scenarios"])
    return to_dataset_dict(rows_from(read_json(DATASET, tomh_file), kind, examples), f"{DATASET}/{tomh_file}")


def doc_to_text(doc: dict) -> str:
    return INSTRUCTION + item_text(doc["narrative"], doc["question"])


def process_results(doc: dict, results: list[str]) -> dict[str, float]:
    verdict = judge_yes_no(results[0], doc["question"])
    return {"acc": float(verdict.conclusion == doc["answer"].lower()),
            "inconclusive": float(verdict.conclusion is None),
            "run_on": float("run-on" in verdict.rule)}
