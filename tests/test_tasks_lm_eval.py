"""Every task runs through plain lm_eval.simple_evaluate (TaskManager include_path) on a tiny model."""
from __future__ import annotations

import pytest

from tom_harness.task_yamls import TASK_DIR

TASKS = ["tomi_seed12", "tomi_mc_seed12", "hitom_seed12", "hitom_mc_seed12", "fantom_seed12",
         "sparse_tom", "wikitext2_ppl", "tomi_gen", "hitom_gen", "hitom_paper_seed12"]


@pytest.fixture(scope="module")
def hflm(tiny_model_dir):
    from lm_eval.models.huggingface import HFLM

    return HFLM(pretrained=str(tiny_model_dir), device="cpu", batch_size=4, max_length=256)


@pytest.fixture(scope="module")
def manager():
    from lm_eval.tasks import TaskManager

    return TaskManager(include_path=str(TASK_DIR), include_defaults=False,
                       metadata={"gen_stories": 3, "gen_seed": 5})


def _run(hflm, manager, tasks):
    import lm_eval

    return lm_eval.simple_evaluate(model=hflm, tasks=tasks, task_manager=manager, limit=2,
                                   gen_kwargs="max_gen_toks=6", bootstrap_iters=0)


@pytest.mark.parametrize("task", TASKS)
def test_task_runs(hflm, manager, task):
    out = _run(hflm, manager, [task])
    res = out["results"][task]
    key = {"wikitext2_ppl": "word_perplexity,none", "sparse_tom": "probe_acc,none"}.get(task, "acc,none")
    assert 0 <= res[key] <= (float("inf") if task == "wikitext2_ppl" else 1)
    expected = {"sparse_tom": "sparse_tom", "wikitext2_ppl": "wikitext2"}.get(task, task.split("_")[0])
    assert out["configs"][task]["metadata"]["family"] == expected
    if out["configs"][task]["output_type"] == "generate_until":  # which generation protocol ran
        assert out["configs"][task]["metadata"]["protocol"] == ("paper" if "_paper_" in task else "default")


def test_group_headline_and_seed_std(hflm, manager):
    from tom_harness.task_yamls.helpers import seed_summary

    out = _run(hflm, manager, ["hitom"])
    seeds = [out["results"][f"hitom_seed{s}"]["acc,none"] for s in (12, 42, 96, 2012, 2024)]
    assert out["results"]["hitom"]["acc,none"] == pytest.approx(sum(seeds) / 5)
    summary = seed_summary(out)["hitom"]
    assert summary["acc,none"] == pytest.approx(sum(seeds) / 5)
    assert summary["acc_seed_std,none"] >= 0 and summary["n_seeds"] == 5


def test_missing_data_gives_fetch_hint(monkeypatch, tmp_path, hflm, manager):
    from tom_harness.api.errors import DataMissingError

    monkeypatch.setenv("TOM_HARNESS_DATA", str(tmp_path))
    with pytest.raises(DataMissingError, match="tom-harness data fetch tomi"):
        _run(hflm, manager, ["tomi_seed42"])
    out = _run(hflm, manager, ["tomi_gen"])  # generated stories need no files
    assert "acc,none" in out["results"]["tomi_gen"]
