"""The contract every registered intervention keeps, checked over all of them (parametrised by
name from the plugin host, so a new plugin is covered the day it is registered):

* documented: a description, and every parameter with help text, a known type and a default
  that its own type accepts;
* its row label is a spec that rebuilds the same row (defaults and one changed value per
  parameter);
* on the tiny model, prepare → apply → remove leaves every tensor bit-identical and no hooks
  (the runner's own check), and weights/activations rows do change the model while applied;
* ``applies_to`` answers for a few kinds of task, and prompt methods are n/a where there is no
  question (perplexity).
"""
from __future__ import annotations

import pytest

from tom_harness.api.errors import UsageError
from tom_harness.model.snapshot import diff_snapshots, snapshot
from tom_harness.api.intervention import TaskInfo
from tom_harness.api.params import format_value
from tom_harness.host.plugin_host import load_host
from tom_harness.task_yamls import TASK_DIR
from tom_harness.lmeval.tasks import info_from_yaml
from tom_harness.run.restore_check import check_restored

HOST = load_host()
NAMES = sorted(HOST.interventions)
TYPES = {"int", "float", "bool", "str", "int_list"}

#: the smallest settings whose ``prepare`` still does the real work on the tiny model; ``{lora}``
#: is a LoRA adapter made for the tiny model (the adapter row has no default path)
CHEAP = {
    "grad_mask": "grad_mask:m=0.01,n_tom=2,n_generic=2,generic_seqlen=16",
    "localizer": "localizer:pct=5,batch_size=32",
}
BASE = {"adapter": "adapter:path={lora}"}

#: real tasks' declared traits (read from their YAML, no data loaded), and a task with none
TASKS = [info_from_yaml(TASK_DIR / f) for f in (
    "tomi/tomi_seed12.yaml", "tomi/tomi_mc_seed12.yaml", "hitom/hitom_seed12.yaml", "fantom/fantom_seed12.yaml",
    "tomi/tomi_gen.yaml", "sparse_tom/sparse_tom.yaml", "wikitext2/wikitext2_ppl.yaml",
)] + [TaskInfo("my_task", "my_task", ("multiple_choice",))]


@pytest.fixture(scope="session")
def lora(tiny_model_dir, tmp_path_factory):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = get_peft_model(AutoModelForCausalLM.from_pretrained(tiny_model_dir),
                           LoraConfig(r=2, target_modules=["q_proj"], init_lora_weights=False))
    folder = tmp_path_factory.mktemp("contract_lora") / "tiny_lora"
    model.save_pretrained(folder)
    return folder


def _spec(name: str, request, table: dict = BASE) -> str:
    text = table.get(name) or BASE.get(name, name)
    return text.format(lora=request.getfixturevalue("lora")) if "{lora}" in text else text


def _other_value(p):
    """A valid value of ``p`` that differs from its default, or None when there is none."""
    if p.choices:
        return next((c for c in p.choices if c != p.default), None)
    if p.type == "bool":
        return not p.default
    if p.type == "int":
        v = p.default + 1
        return v if p.maximum is None or v <= p.maximum else p.default - 1
    if p.type == "float":
        v = p.default * 2 if p.default else 0.5
        return v if p.maximum is None or v <= p.maximum else p.default / 2
    if p.type == "int_list":
        return [0, 1] if p.default != [0, 1] else [2]
    return "other words"


@pytest.mark.parametrize("name", NAMES)
def test_parameters_are_documented(name):
    cls = HOST.interventions[name]
    assert cls.description.strip(), f"{name}: set a description (shown by `tom-harness list`)"
    for p in cls.params:
        assert p.type in TYPES, f"{name}.{p.name}: type {p.type!r} not in {sorted(TYPES)}"
        assert p.help.strip(), f"{name}.{p.name}: add help text"
        assert p.convert(p.default, name) == p.default, f"{name}.{p.name}: default not of its own type"


@pytest.mark.parametrize("name", NAMES)
def test_label_is_a_spec_that_rebuilds_the_row(name, request):
    cls = HOST.interventions[name]
    base = _spec(name, request)
    (default,) = HOST.build_interventions(base)
    assert default.label() == base
    rebuilt = 0
    for p in cls.params:
        value = _other_value(p)
        if value is None:
            continue
        text = f"{base}{',' if ':' in base else ':'}{p.name}={format_value(value)}"
        try:
            rows = HOST.build_interventions(text)
        except UsageError:
            continue  # a value valid alone but refused in combination with the defaults
        assert len(rows) == 1, text
        (iv,) = rows
        assert iv.values[p.name] == value, text
        (again,) = HOST.build_interventions(iv.label())
        assert again.label() == iv.label() and again.values == iv.values, text
        rebuilt += 1
    assert rebuilt or not cls.params, f"{name}: no parameter could be changed through a spec"


@pytest.mark.parametrize("name", NAMES)
def test_apply_and_remove_restore_the_model_exactly(name, run_ctx, request):
    (iv,) = HOST.build_interventions(_spec(name, request, CHEAP))
    handle = run_ctx.handle
    if hasattr(iv, "unavailable"):
        assert iv.unavailable(run_ctx) is None, f"{name}: unavailable on the hf backend"
    baseline = handle.apply_to_model(snapshot)
    iv.prepare(run_ctx)
    assert diff_snapshots(baseline[0], handle.apply_to_model(snapshot)[0])["ok"], f"{name}: prepare changed the model"
    iv.apply(run_ctx)
    handle.after_edit()
    during = diff_snapshots(baseline[0], handle.apply_to_model(snapshot)[0])
    if iv.kind in ("weights", "activations"):
        assert not during["ok"], f"{name}: apply() changed nothing, so the restore check proves nothing"
    iv.remove(run_ctx)
    handle.after_edit()
    report = check_restored(run_ctx, baseline, iv.label())  # raises RestoreError naming the tensors
    assert report["ok"] and report["tensors_checked"] == len(baseline[0].digests)


@pytest.mark.parametrize("name", NAMES)
def test_applies_to_and_na_reasons(name, request):
    (iv,) = HOST.build_interventions(_spec(name, request))
    answers = {t.name: iv.applies_to(t) for t in TASKS}
    assert all(isinstance(a, bool) for a in answers.values()), answers
    for task in TASKS:
        reason = iv.not_applicable_reason(task)
        if answers[task.name]:
            assert reason is None and iv.na_reason(task), (name, task.name)
        else:  # the cell says why, naming the task (and, for declared requirements, the trait)
            assert reason is not None and task.name in reason and reason == iv.na_reason(task), (name, reason)
    if iv.kind == "prompts":
        assert answers["wikitext2_ppl"] is False, f"{name}: a prompt method cannot apply to perplexity"
        assert any(answers.values()), f"{name}: applies to none of the built-in tasks"
    if iv.kind in ("none", "weights", "activations"):
        assert all(answers.values()), f"{name}: model edits apply to every task, got {answers}"
