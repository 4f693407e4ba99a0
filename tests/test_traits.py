"""Applicability from task traits: requirement semantics, n/a reasons naming the trait, the
removed ``families`` attribute refused, and the built-in interventions on the built-in tasks."""
from __future__ import annotations

import pytest

from tom_harness.cli.main import main
from tom_harness.api.errors import UsageError
from tom_harness.api.intervention import Intervention, TaskInfo
from tom_harness.plugins.baselines import CoT, SimToM
from tom_harness.plugins.builtin import StepByStep
from tom_harness.plugins.enigma import Enigma
from tom_harness.task_yamls import TASK_DIR
from tom_harness.lmeval.tasks import TaskCatalog, info_from_yaml
from tom_harness.api.traits import describe, mismatch


def info(folder: str, name: str) -> TaskInfo:
    return info_from_yaml(TASK_DIR / folder / f"{name}.yaml")


def test_requirement_semantics():
    traits = {"unit": "event", "tom_orders": [0, 1, 2], "generated": False, "dataset": "tomi"}
    assert mismatch({"unit": "event"}, traits) is None
    assert mismatch({"unit": ("event", "utterance")}, traits) is None
    assert "unit=event" in mismatch({"unit": "utterance"}, traits)
    assert mismatch({"tom_orders": (2, 3)}, traits) is None  # list trait: one element is enough
    assert "tom_orders" in mismatch({"tom_orders": (3, 4)}, traits)
    assert mismatch({"generated": False}, traits) is None
    assert "generated=false" in mismatch({"generated": True}, traits)
    assert mismatch({"dataset": True}, traits) is None  # present and non-empty
    assert "does not declare trait 'question_kind'" in mismatch({"question_kind": "free"}, traits)
    assert describe({"unit": ("event", "sentence"), "narrative_in_prompt": True}) == "unit=event|sentence, narrative_in_prompt"


@pytest.mark.parametrize("iv, folder, task, applies, named", [
    (StepByStep(), "tomi", "tomi_seed12", True, None),
    (StepByStep(), "fantom", "fantom_seed12", True, None),
    (StepByStep(), "sparse_tom", "sparse_tom", False, "question_kind"),
    (StepByStep(), "wikitext2", "wikitext2_ppl", False, "narrative_in_prompt"),
    (CoT(), "hitom", "hitom_mc_seed12", False, "output_type"),
    (CoT(), "hitom", "hitom_seed12", True, None),
    (SimToM(), "fantom", "fantom_seed42", True, None),
    (Enigma(nkb="rules"), "fantom", "fantom_seed12", False, "templated"),
    (Enigma(nkb="rules"), "tomi", "tomi_gen", True, None),
    (Enigma(nkb="cache"), "hitom", "hitom_gen", False, "generated"),
    (Enigma(nkb="cache"), "tomi", "tomi_seed12", True, None),
    (Enigma(nkb="prompted"), "hitom", "hitom_gen", True, None),
])
def test_builtin_interventions_on_builtin_tasks(shared_data, iv, folder, task, applies, named):
    t = info(folder, task)
    assert iv.applies_to(t) is applies
    reason = iv.not_applicable_reason(t)
    if applies:
        assert reason is None
    else:
        assert named in reason and task in reason and iv.label() in reason


def test_enigma_cache_needs_the_dataset_folder(shared_data, tmp_path, monkeypatch):
    t = info("tomi", "tomi_seed12")
    monkeypatch.setenv("TOM_HARNESS_DATA", str(tmp_path))  # a data root with no enigma_cache
    reason = Enigma(nkb="cache").not_applicable_reason(t)
    assert "enigma_cache/tomi" in reason and str(tmp_path) in reason
    import os
    monkeypatch.setenv("TOM_HARNESS_DATA", os.pathsep.join([str(tmp_path), str(shared_data)]))
    assert Enigma(nkb="cache").applies_to(t)  # found in the second root


def test_families_is_refused_and_requires_family_replaces_it():
    from tom_harness.host.registrars import make_register

    class Old(Intervention):
        name, kind, families = "old", "prompts", ("tomi",)

    with pytest.raises(TypeError, match="`families` attribute was removed.*requires"):
        make_register("register_interventions", "old-plugin", [])(Old)

    class New(Intervention):
        name, kind, requires = "new", "prompts", {"family": ("tomi",)}

    assert New().applies_to(TaskInfo("x", "tomi"))
    reason = New().na_reason(TaskInfo("y", "hitom"))
    assert "family" in reason and "hitom" in reason
    assert New.requirements_text() == "requires: family=tomi"

    class Custom(Intervention):
        name = "custom"

        def applies_to(self, task):
            return False

    assert "its applies_to says so" in Custom().na_reason(TaskInfo("z", "z"))


def test_group_carries_the_traits_its_subtasks_share(shared_data):
    cat = TaskCatalog.from_sources([TASK_DIR])
    group = cat.info("fantom")
    assert group.traits["unit"] == "utterance" and group.traits["has_reduced_question"] is True
    sub = cat.info("fantom_seed42")
    assert sub.traits["dataset"] == "fantom" and sub.output_types == ("generate_until",)


def test_bad_trait_value_is_a_usage_error(tmp_path):
    (tmp_path / "utils.py").write_text(
        "import datasets\n\ndef load(**_):\n"
        "    return datasets.DatasetDict({'test': datasets.Dataset.from_list([{'q': 'x', 'a': 'y'}])})\n")
    (tmp_path / "bad.yaml").write_text(
        "task: bad_task\ncustom_dataset: !function utils.load\ntest_split: test\n"
        "output_type: generate_until\ndoc_to_text: q\ndoc_to_target: a\n"
        "metadata: {version: 1.0, unit: events}\n")
    cat = TaskCatalog.from_sources([], [str(tmp_path)])
    with pytest.raises(UsageError, match=r"bad_task: metadata unit='events' is not one of event\|utterance"):
        cat.info("bad_task")


def test_list_shows_requirements(capsys):
    assert main(["list", "interventions"]) == 0
    out = capsys.readouterr().out
    assert "requires: narrative_in_prompt, question_kind=free|choice|yesno|list|mixed" in out
    assert "applies to:" not in out
