"""Moghaddam & Honey tasks: loading, and the prompts of every row (none, sbs, cot, sbs+cot) equal,
item by item, to the prompts the original script builds (Z3R6X/ToM_in_small_LLMs
``ToM_Experiment/Tom_Eval_LLaMa2.py``), reimplemented here the original's way."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.task_utils import load_utils
from tom_harness.cache.artifacts import ArtifactCache
from tom_harness.host.plugin_host import load_host
from tom_harness.results.outdir import intervention_id
from tom_harness.run.dryrun import dry_run
from tom_harness.spec.matrix import build_spec

ROWS = ["none", "sbs", "cot", "sbs+cot", "cot+sbs"]


def original_prompt(scenario: dict, cot_scenarios: list[dict], sbs: bool, cot: bool) -> str:
    """The original script's string building (its ``main``), for one scenario and flags."""
    if cot:
        if sbs:
            cot_prompt = ''.join(['Scenario: ', cot_scenarios[0]['context'], ' Question: ', cot_scenarios[0]['question'],
                                  " Answer: Let's think step by step: ", cot_scenarios[0]['answer'], '\n\n',
                                  'Scenario: ', cot_scenarios[1]['context'], ' Question: ', cot_scenarios[1]['question'],
                                  " Answer: Let's think step by step: ", cot_scenarios[1]['answer'], '\n\n'])
        else:
            cot_prompt = ''.join(['Scenario: ', cot_scenarios[0]['context'], ' Question: ', cot_scenarios[0]['question'],
                                  ' Answer: ', cot_scenarios[0]['answer'], '\n\n',
                                  'Scenario: ', cot_scenarios[1]['context'], ' Question: ', cot_scenarios[1]['question'],
                                  ' Answer: ', cot_scenarios[1]['answer'], '\n\n'])
    base_prompt = 'Scenario: ' + scenario['context'] + ' Question: ' + scenario['question'] + ' Answer: '
    if sbs:
        base_prompt = base_prompt + "Let's think step by step: "
    if cot:
        return 'Read the scenario and answer the following question:\n\n' + cot_prompt + base_prompt
    return 'Read the scenario and answer the following question:\n\n' + base_prompt


def _read(shared: Path, name: str) -> list[dict]:
    return json.loads((shared / "moghaddam_honey" / name).read_text(encoding="utf-8"))["scenarios"]


def test_tasks_load_all_scenarios(shared_data):
    utils = load_utils("moghaddam_honey")
    belief = utils.load_mh("belief_scenarios.json")["test"]
    photo = utils.load_mh("photo_scenarios.json")["test"]
    assert len(belief) == len(photo) == 16
    assert [d["answer"] for d in belief].count("Yes") == 8  # the data README says 7; the file has 8 (2,3,5,9-13)
    assert {d["kind"] for d in belief} == {"belief"} and {d["kind"] for d in photo} == {"photo"}
    assert [d["scenario"] for d in photo] == list(range(1, 17))
    examples = _read(shared_data, "cot_examples.json")
    assert belief[0]["worked_examples"].count("Scenario: ") == 2 and examples[1]["answer"] in belief[0]["worked_examples"]


def test_group_traits_declare_the_layout():
    host = load_host()
    from tom_harness.lmeval.tasks import TaskCatalog

    info = TaskCatalog.from_sources(host.task_sources).info("mh_tom")
    assert info.subtasks == ("mh_belief", "mh_photo")
    assert info.trait("answer_cue") == "Answer: " and info.trait("item_start") == "Scenario: "
    assert info.trait("reasoning_cue") == "Let's think step by step: " and info.trait("paired_ttest") is True


@pytest.fixture(scope="module")
def prompts(tmp_path_factory, tiny_model_dir, shared_data):
    """The dry-run prompts of every row on both tasks (no model is loaded for these rows)."""
    out = tmp_path_factory.mktemp("mh_prompts")
    spec = build_spec({}, {"model_args": f"pretrained={tiny_model_dir}", "tasks": "mh_tom", "interventions": ROWS,
                           "gen_kwargs": "max_gen_toks=128"})
    summary = dry_run(spec, load_host(), out / "P", ArtifactCache(out / "cache"))
    assert summary["model_loaded"] is False
    got: dict[tuple[str, str], list[dict]] = {}
    for row in ROWS:
        for line in (out / "P" / intervention_id(row) / "mh_tom.jsonl").read_text().splitlines():
            rec = json.loads(line)
            got.setdefault((row, rec["task"]), []).append(rec)
    return got


@pytest.mark.parametrize("row", ROWS)
@pytest.mark.parametrize("task,file", [("mh_belief", "belief_scenarios.json"), ("mh_photo", "photo_scenarios.json")])
def test_prompts_equal_the_original_script(prompts, shared_data, row, task, file):
    scenarios, examples = _read(shared_data, file), _read(shared_data, "cot_examples.json")
    sbs, cot = "sbs" in row.split("+"), "cot" in row.split("+")
    sent = prompts[row, task]
    assert len(sent) == 16
    for rec in sent:
        want = original_prompt(scenarios[rec["doc_id"]], examples, sbs=sbs, cot=cot)
        assert rec["prompt"] == want, (row, task, rec["doc_id"])
        # the study's decoding for every row: cot keeps the task's (here the user's) budget
        assert rec["gen_kwargs"]["max_gen_toks"] == 128 and rec["gen_kwargs"]["do_sample"] is True


def test_sbs_text_parameter_still_wins(tiny_model_dir, tmp_path):
    spec = build_spec({}, {"model_args": f"pretrained={tiny_model_dir}", "tasks": "mh_belief",
                           "interventions": ["sbs:text=Think carefully."], "limit": 1})
    dry_run(spec, load_host(), tmp_path / "P", ArtifactCache(tmp_path / "cache"))
    (path,) = (tmp_path / "P").glob("*/mh_belief.jsonl")
    assert json.loads(path.read_text().splitlines()[0])["prompt"].endswith(" Answer: Think carefully. ")
