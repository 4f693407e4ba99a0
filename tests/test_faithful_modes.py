"""Faithful modes end to end: the dry run with recorded answers (no model), the n/a reasons
where the original has no template, and the fixes the issue listed (render, location query)."""
from __future__ import annotations

import json

import pytest

from tom_harness.host.plugin_host import load_host
from tom_harness.lmeval.tasks import info_from_yaml
from tom_harness.plugins.baselines import CoT, DWM, PerceptToM, SimToM, TimeToM
from tom_harness.plugins.enigma import prompts as P
from tom_harness.plugins.enigma.render import event_text, render
from tom_harness.run.dryrun import dry_run
from tom_harness.spec.matrix import build_spec
from tom_harness.task_yamls import TASK_DIR

from .faithful_reference import Original


@pytest.mark.parametrize("chat", [False, True])
def test_dry_run_sends_the_original_turns_with_recorded_answers(tiny_model_dir, shared_data, tmp_path, chat):
    ref = Original(shared_data, "tomi", 12)
    first = next(iter(ref.data.values()))
    narrative = "\n".join(p for p in (first["narrative"] + " ").split(". ") if p.strip()).strip()
    stage1 = ref.prompt_bank["simtom-text"][0].replace("{{narrative}}", narrative).replace("{{character}}", "Emily")
    recording = tmp_path / "answers.json"
    recording.write_text(json.dumps({stage1: "Emily knows that the t-shirt is in the cupboard."}))
    host = load_host()
    spec = build_spec({}, {"model_args": f"pretrained={tiny_model_dir}", "tasks": "tomi_paper_seed12",
                           "interventions": ["cot:faithful=true", "simtom:faithful=true"], "limit": 2,
                           "apply_chat_template": chat})
    summary = dry_run(spec, host, tmp_path / "P", stub=str(recording))
    assert summary["model_loaded"] is False and summary["model_calls"] == 2  # two stories, one perspective each
    rows = {w["row"]: [json.loads(ln) for ln in open(w["file"])] for w in summary["written"]}
    simtom = rows["simtom:faithful=true"][0]
    turns = simtom["edit"]["turns"]
    assert [t["role"] for t in turns] == ["user", "assistant", "user"]
    assert turns[2]["content"].startswith("Emily knows that the t-shirt is in the cupboard.\n\nAnswer the following")
    assert simtom["gen_kwargs"]["max_gen_toks"] == 512 and simtom["gen_kwargs"]["until"] == []
    cot = rows["cot:faithful=true"][0]
    assert "Therefore, the correct answer is <answer>Your answer</answer>" in cot["prompt"]
    if chat:
        assert simtom["prompt"].count("<|im_start|>user") == 2 and simtom["prompt"].count("<|im_start|>assistant") == 2
    else:
        assert simtom["prompt"] == "\n\n".join(t["content"] for t in turns)


def test_faithful_is_na_where_the_original_has_no_template():
    for name in ("bigtom/bigtom_seed12.yaml", "tomi/tomi_mc_seed12.yaml"):
        info = info_from_yaml(TASK_DIR / name)
        for cls in (SimToM, DWM, PerceptToM, TimeToM):
            why = cls(faithful=True).not_applicable_reason(info)
            assert why and "faithful=true" in why, (cls.name, name)
        if name.startswith("bigtom"):
            assert "no prompt for dataset 'bigtom'" in SimToM(faithful=True).not_applicable_reason(info)
            assert SimToM().applies_to(info)  # the default mode still applies
    assert all(cls(faithful=True).applies_to(info_from_yaml(TASK_DIR / "fantom" / "fantom_seed12.yaml"))
               for cls in (CoT, SimToM, DWM, PerceptToM, TimeToM))


def test_empty_utterance_keeps_its_space():
    """FANToM 4569876676 has empty lines "Max: "; the original rendered them "Max: ."."""
    assert event_text("Max:", dialogue=True, faithful=True) == "Max: ."
    assert event_text("Max:", dialogue=True, faithful=False) == "Max: ."
    assert event_text("Max: Hi", dialogue=True, faithful=True) == "Max: Hi."
    assert render([0, 1], ["Roy: Hey.", "Max:"], None, "text", True, True) == "Roy: Hey..\n\nMax:  ."


def test_location_query_as_the_adapters_were_trained():
    faithful = P.state_prompt("Isabella entered the cellar.", "location of Isabella", True, location_query=True)
    assert '"location of Isabella"? )If the location of Isabella undergoes' in faithful
    assert "- Location of isabella is now [current state]." in faithful
    fixed = P.state_prompt("Isabella entered the cellar.", "location of Isabella", True)
    assert ")If" not in fixed and "- Location of Isabella is now" in fixed


def test_percepttom_literal_that_is_no_perception_list(shared_data):
    """A perception answer that parses but is no list of {sentence: [names]} crashed the original;
    faithful PercepToM then asks on the indexed sentences (documented difference)."""
    from types import SimpleNamespace

    from tom_harness.backends.caller import ModelCaller
    from tom_harness.backends.stub import RecordedLM

    from .faithful_compare import task_docs

    docs = [d for d in task_docs("tomi", 12) if d["story_id"] == "4391668758"]
    ctx = SimpleNamespace(caller=ModelCaller(RecordedLM(answer=lambda text: "[1, 2]"), None, "stub"))
    iv = PerceptToM(faithful=True)
    edits = iv.edit_prompts(docs, info_from_yaml(TASK_DIR / "tomi" / "tomi_paper_seed12.yaml"), ctx)
    assert iv.metadata["unparsed_stories"] == 0 and iv.metadata["prep_calls"] == 1
    assert all("Events:\n1: Isabella loves the beans. 2: " in e.messages[0]["content"] for e in edits)


@pytest.mark.parametrize("stop", [True, False])
def test_cot_answer_format_is_read_by_both_scorers(shared_data, stop):
    """The default CoT asks for "Therefore, the answer is <answer>X</answer>": acc reads the tag,
    acc_paper the text after "Therefore" (with the default stop string lm-eval cuts </answer>)."""
    from tom_harness.plugins.baselines.cot import COT_INSTRUCTION
    from tom_harness.task_yamls.tomi.utils import process_results

    from .faithful_compare import task_docs

    doc = task_docs("tomi", 12)[0]
    assert "Therefore, the answer is <answer>X</answer>" in COT_INSTRUCTION
    answer = "1. Emily saw the move.\n2. Abigail did not.\nTherefore, the answer is <answer>cupboard" + ("" if stop else "</answer>")
    scores = process_results(doc, [answer])
    assert scores["acc"] == 1.0 and scores["acc_paper"] == 1.0
