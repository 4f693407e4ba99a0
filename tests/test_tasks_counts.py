"""Every seed file of every dataset, loaded through the lm-eval tasks, has the README's counts."""
from __future__ import annotations

import pytest

from tom_harness.task_yamls import TASK_DIR

COUNTS = {
    "tomi_seed12": 111, "tomi_seed42": 113, "tomi_seed96": 119, "tomi_seed2012": 112,
    "tomi_seed2024": 115, "tomi_full": 1000, "tomi_mc_seed12": 111,
    "hitom_seed12": 613, "hitom_seed42": 617, "hitom_seed96": 618, "hitom_seed2012": 607,
    "hitom_seed2024": 614, "hitom_full": 738, "hitom_mc_seed96": 618,
    "fantom_seed12": 578, "fantom_seed42": 594, "fantom_seed96": 563, "fantom_seed2012": 574,
    "fantom_seed2024": 576,
    "sparse_tom": 2 * (20 * 8) * 2 + 12 * 2,  # two probes per contents/transfer cell, one per irony cell
    "wikitext2_ppl": 62,
}
STORIES = {"tomi": 100, "hitom": 100, "fantom": 50}


@pytest.fixture(scope="module")
def loaded(shared_data):
    from lm_eval.tasks import TaskManager

    tm = TaskManager(include_path=str(TASK_DIR), include_defaults=False)
    return tm.load(list(COUNTS))["tasks"]


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_doc_counts(loaded, name):
    docs = list(loaded[name].test_docs())
    assert len(docs) == COUNTS[name]
    family = loaded[name].config.metadata["family"]
    if family in STORIES and "seed" in name:
        assert len({d["story_id"] for d in docs}) == STORIES[family]
        seed = int(name.rsplit("seed", 1)[1])
        assert {d["seed"] for d in docs} == {seed}
        assert all(d["reduced_question"] for d in docs)


@pytest.mark.parametrize("name", ["tomi_seed12", "hitom_seed12", "fantom_seed12", "tomi_mc_seed12", "hitom_mc_seed96"])
def test_schema_and_verbatim_prompt(loaded, name):
    task = loaded[name]
    assert task.config.metadata["family"] in ("tomi", "hitom", "fantom")
    for doc in list(task.test_docs())[:40]:
        assert {"story_id", "dataset", "seed", "narrative", "question"} <= set(doc)
        text = task.doc_to_text(doc)
        n = text.find(doc["narrative"])
        assert n >= 0 and text.rfind(doc["question"]) > n + len(doc["narrative"]) - 1
    field = {"tomi": "question_type", "hitom": "question_order", "fantom": "question_type"}
    assert field[task.config.metadata["family"]] in doc


def test_hitom_duplicate_questions_are_kept(loaded):
    docs = list(loaded["hitom_seed12"].test_docs())
    keys = [(d["story_id"], d["question"]) for d in docs]
    assert len(set(keys)) < len(keys)  # the release's known duplicates are not deduplicated


def test_hitom_gold_letter_points_at_answer(loaded):
    for doc in list(loaded["hitom_seed42"].test_docs())[:100]:
        assert doc["choices"][ord(doc["gold_letter"]) - 65] == doc["answer"]
        assert len(doc["choices"]) == 15
