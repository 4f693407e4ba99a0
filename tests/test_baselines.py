"""Prompting baselines on the tiny random Llama: edits, fallbacks and recorded call counts."""
from __future__ import annotations

import pytest

from tom_harness.task_yamls import TASK_DIR
from tom_harness.lmeval.tasks import info_from_yaml
from tom_harness.plugins.baselines import DWM, CoT, PerceptToM, SimToM, TimeToM
from tom_harness.data.stories import docs_from_file

# ToMi seed 12: 4391668758 (Isabella, Hunter, Mason; 2 questions), 5277587161 (1 question,
# second order: Emily -> Abigail)
STORIES = ["4391668758", "5277587161"]
TOMI = info_from_yaml(TASK_DIR / "tomi" / "tomi_seed12.yaml")


@pytest.fixture()
def tomi_docs(shared_data):
    return docs_from_file(str(shared_data / "tomi" / "tomi_seed12.json"), "tomi", 12, STORIES)


def short(iv, toks=4):
    iv.max_prep_toks = iv.faithful_prep_toks = toks  # keep the tiny model's answers short
    return iv


def test_cot_forms(tomi_docs, run_ctx):
    zero, two = CoT(), CoT(shots=2)
    e0 = zero.edit_prompts(tomi_docs, TOMI, run_ctx)
    e2 = two.edit_prompts(tomi_docs, TOMI, run_ctx)
    assert all(e.preamble is None and "Therefore, the answer is <answer>" in e.instruction for e in e0)
    # the task's "without any explanation" would contradict the reasoning: removed
    from tom_harness.lmeval.wrapper import splice
    from tom_harness.task_yamls.tomi.utils import doc_to_text
    doc = {**tomi_docs[0], "containers": ["crate", "basket"]}
    prompt = splice(doc_to_text(doc), doc, e0[0])
    assert "explanation" not in prompt
    assert "without any explanation" in doc_to_text(doc) and "Reason before answering" in prompt
    assert e2[0].preamble.count("Example ") == 2 and e2[0].gen_kwargs == {"max_gen_toks": 512}
    assert zero.metadata["calls_per_question"] == 1 and zero.metadata["prep_calls"] == 0
    assert not zero.applies_to(info_from_yaml(TASK_DIR / "tomi" / "tomi_mc_seed12.yaml"))
    assert not zero.applies_to(info_from_yaml(TASK_DIR / "wikitext2" / "wikitext2_ppl.yaml"))


def test_simtom_one_call_per_perspective(tomi_docs, run_ctx):
    iv = short(SimToM())
    edits = iv.edit_prompts(tomi_docs, TOMI, run_ctx)
    by_q = {d["question"]: e for d, e in zip(tomi_docs, edits)}
    assert by_q["Where was the turnip at the beginning?"] is None  # nobody named: vanilla
    assert by_q["Where will Isabella look for the turnip?"] is not None
    # perspectives: (story 1, Isabella) and (story 2, Emily, the outer believer)
    assert iv.metadata["prep_calls"] == 2 and iv.metadata["perspectives"] == 2
    assert iv.metadata["calls_per_story"] == 1.0
    assert iv.metadata["calls_per_question"] == pytest.approx(2 / 3 + 1)
    faithful = short(SimToM(faithful=True)).edit_prompts(tomi_docs, TOMI, run_ctx)
    n = [d["story_id"] for d in tomi_docs].index("5277587161")
    turns = faithful[n].messages  # the original's three turns; stage 2 asks the reduced question
    assert [t["role"] for t in turns] == ["user", "assistant", "user"]
    assert turns[1]["content"] == tomi_docs[n]["narrative"]
    assert "Where will Abigail search for the t-shirt? Choose one of the following options:" in turns[2]["content"]


def test_percepttom_parse_and_fallback(tomi_docs, run_ctx):
    events = ["Ann entered the den.", "Bo exited the den."]
    good = 'Sure: [{"Ann entered the den.": ["Ann", "Bo"]}, {"Bo exited the den.": ["Ann"]}]'
    assert PerceptToM.parse(good, events) == [["ann", "bo"], ["ann"]]
    assert PerceptToM.parse("[not json", events) is None
    iv = short(PerceptToM(retries=1))
    edits = iv.edit_prompts(tomi_docs, TOMI, run_ctx)
    # the random model never writes JSON: two attempts per story, then the full narrative
    assert iv.metadata["prep_calls"] == 4 and iv.metadata["unparsed_stories"] == 2
    assert edits == [None] * len(tomi_docs)


def test_dwm_three_parts(tomi_docs, run_ctx):
    iv = short(DWM())
    edits = iv.edit_prompts(tomi_docs, TOMI, run_ctx)
    assert iv.metadata["calls_per_story"] == 3
    assert all(e.narrative.count("[What each agent knows:") == 3 for e in edits)
    n = [d["story_id"] for d in tomi_docs].index("4391668758")
    assert edits[n].narrative.startswith("1: Isabella loves the beans.")


def test_timetom_counts(tomi_docs, run_ctx):
    iv = short(TimeToM())
    edits = iv.edit_prompts(tomi_docs, TOMI, run_ctx)
    # 2 timelines + belief chains (Isabella; Emily, Abigail) + 1 compression (Isabella, first order)
    assert iv.metadata["belief_chains"] == 3 and iv.metadata["compressions"] == 1
    assert iv.metadata["prep_calls"] == 2 + 3 + 1
    by_q = {d["question"]: e for d, e in zip(tomi_docs, edits)}
    assert by_q["Where was the turnip at the beginning?"] is None
    assert TimeToM.stamps("t1: a\nt3: b t12") == [1, 3, 12]
