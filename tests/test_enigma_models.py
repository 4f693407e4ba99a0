"""EnigmaToM with model-backed knowledge bases, on the tiny random Llama (quality irrelevant)."""
from __future__ import annotations

import pytest

from tom_harness.api.errors import UsageError
from tom_harness.task_yamls import TASK_DIR
from tom_harness.lmeval.tasks import info_from_yaml
from tom_harness.plugins.enigma import Enigma
from tom_harness.plugins.enigma import prompts as P
from tom_harness.plugins.enigma.kb import PromptedKB, TrainedKB
from tom_harness.plugins.enigma.pipeline import Pipeline
from tom_harness.data.stories import docs_from_file, stories_from_docs

STORY = "4391668758"  # ToMi seed 12: 10 events, characters Isabella, Hunter, Mason


@pytest.fixture()
def tomi_docs(shared_data):
    return docs_from_file(str(shared_data / "tomi" / "tomi_seed12.json"), "tomi", 12, [STORY])


def fixed_entities(pipe, stories, analyses):
    """A replacement entities stage: exercises stage replacement and guarantees state queries."""
    return [["turnip"] for _ in stories]


def test_prompted_pipeline_counts_and_caches(run_ctx, tomi_docs):
    stories, _ = stories_from_docs(tomi_docs)
    kb = PromptedKB(run_ctx, max_gen_toks=4, plan_max_tokens=8, ner_model="")
    pipe = Pipeline(kb, run_ctx, attributes=True, stages={"entities": fixed_entities})
    (a,) = pipe.run(stories)
    n_events, n_chars = 10, len(a["characters"])
    assert a["characters"] == ["Isabella", "Hunter", "Mason"]  # rule-based NER, offline
    assert len(a["event_rooms"]) == n_events and len(a["states"]) == n_events
    assert set(a["locations"]) == set(a["characters"]) and all(len(v) == n_events for v in a["locations"].values())
    rooms_calls = 1 + (1 if len(a["rooms"]) > 1 else 0)
    assert kb.logical_calls == rooms_calls + n_events * 1 + n_events * n_chars
    first = run_ctx.caller.stats.calls
    # a second pipeline over the same story reads every stage from the artifact cache
    kb2 = PromptedKB(run_ctx, max_gen_toks=4, plan_max_tokens=8, ner_model="")
    again = Pipeline(kb2, run_ctx, attributes=True, stages={"entities": fixed_entities}).run(stories)
    assert again == [a] and kb2.logical_calls == 0 and run_ctx.caller.stats.calls == first


def test_prompted_intervention_end_to_end(run_ctx, tomi_docs):
    iv = Enigma(nkb="prompted", kb_max_tokens=4, plan_max_tokens=8, max_entities=2, ner_model="")
    edits = iv.edit_prompts(tomi_docs, info_from_yaml(TASK_DIR / "tomi" / "tomi_seed12.yaml"), run_ctx)
    assert len(edits) == len(tomi_docs) and all(e is not None for e in edits)
    m = iv.metadata
    assert m["kb_calls"] > 0 and m["new_model_calls"] > 0 and m["stories"] == 1
    q = {d["question"]: e for d, e in zip(tomi_docs, edits)}
    assert q["Where will Isabella look for the turnip?"].info["chain"] == ["Isabella"]


def test_state_parser_and_room_matching():
    out = "<|start_header_id|>assistant<|end_header_id|>\n\n- Location of tshirt is now in cupboard.\n- so Coat is now dirty"
    assert P.parse_state(out) == [["tshirt", "Location", "in cupboard"], ["", "Coat", "dirty"]]
    assert P.parse_state("None") == []
    assert P.match_room("in the crawl space", ["crawlspace", "kitchen"]) == "crawlspace"
    assert P.is_leaving("talking about pets", faithful=True) and not P.is_leaving("talking about pets", faithful=False)
    assert P.parse_entities("<entities>\n- the t-shirt\n- Isabella\n</entities>", ["Isabella"], True) == ["tshirt"]


@pytest.fixture()
def tiny_adapter(tiny_model_dir, tmp_path):
    """A LoRA adapter for the tiny Llama, made here (peft), with non-zero B so it changes outputs."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    peft_model = get_peft_model(model, LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj", "v_proj"]))
    torch.manual_seed(1)
    for name, p in peft_model.named_parameters():
        if "lora_B" in name:
            p.data.normal_(0, 0.5)
    out = tmp_path / "adapter"
    peft_model.save_pretrained(out)
    return out


def test_trained_kb_with_adapter(run_ctx, tiny_model_dir, tiny_adapter):
    kb = TrainedKB(run_ctx, str(tiny_model_dir), str(tiny_adapter), max_gen_toks=3, ner_model="")
    before = run_ctx.caller.stats.calls
    outs = kb.query([P.state_prompt("Ann entered the den.", "location of ann", True)] * 3)
    assert len(outs) == 3 and len(set(outs)) == 1  # greedy and batched: identical prompts agree
    from peft import PeftModel

    assert isinstance(kb._model, PeftModel)
    assert any("lora_B" in n for n, _ in kb._model.named_parameters())
    assert run_ctx.caller.stats.calls == before  # state queries do not touch the evaluated model
    assert kb.logical_calls == 3
    plain = TrainedKB(run_ctx, str(tiny_model_dir), "", max_gen_toks=3)
    assert kb.identity() != plain.identity()


def test_trained_kb_needs_a_model(run_ctx):
    with pytest.raises(UsageError, match="kb_model"):
        TrainedKB(run_ctx, "")
