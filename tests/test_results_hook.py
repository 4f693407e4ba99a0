"""The ``register_result_processors`` hook: the benchmarks plugin's seed std reaches both the
matrix runner's cells and a plain lm-eval run with ``--model tomh``."""
from __future__ import annotations

import json
import math

import pytest

from tom_harness.spec.matrix import build_spec
from tom_harness.host.plugin_host import load_host
from tom_harness.run.runner import MatrixRunner
from tests.test_runner import TOY_TASKS, toy_data  # noqa: F401  (fixture)


def _expected_std(results: dict) -> float:
    accs = [results["results"][f"toy_seeds_seed{s}"]["acc,none"] for s in (1, 2)]
    mu = sum(accs) / 2
    return math.sqrt(sum((a - mu) ** 2 for a in accs) / 2)


def test_runner_cells_get_the_seed_std(tiny_handle, tmp_path):
    host = load_host()
    assert [p.name for p in host.result_processors] == ["seed_std", "condition_contrast"]  # built-ins: benchmarks plugin
    spec = build_spec({}, {"model_args": "pretrained=tiny", "tasks": "toy_seeds", "limit": 4,
                           "include_path": [str(TOY_TASKS)]})
    MatrixRunner(spec, host, tmp_path / "out", handle=tiny_handle, progress=False).run()
    cell = json.loads((tmp_path / "out" / "cells" / "none" / "toy_seeds.json").read_text())
    group = cell["results"]["results"]["toy_seeds"]
    assert group["n_seeds"] == 2
    assert group["acc_seed_std,none"] == pytest.approx(_expected_std(cell["results"]))
    assert cell["metadata"]["result_processors"] == ["seed_std", "condition_contrast"]


def test_tomh_model_in_plain_lm_eval_gets_the_seed_std(tiny_model_dir):
    import lm_eval
    from lm_eval.tasks import TaskManager

    import tom_harness.run.tomh_model  # noqa: F401  (registers the model type)

    out = lm_eval.simple_evaluate(
        model="tomh", model_args=f"pretrained={tiny_model_dir},intervention=none,device=cpu",
        tasks=["toy_seeds"], task_manager=TaskManager(include_path=str(TOY_TASKS), include_defaults=False),
        limit=4, bootstrap_iters=0,
    )
    group = out["results"]["toy_seeds"]
    assert group["n_seeds"] == 2
    assert group["acc_seed_std,none"] == pytest.approx(_expected_std(out))
