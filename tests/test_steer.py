"""Steering vectors: contrast directions, add/clamp hooks undone exactly, random control, and the
exported vector giving the same outputs in plain lm-eval's ``steered`` model."""
from __future__ import annotations

import json

import pytest
import torch

from tom_harness.api.errors import UsageError
from tom_harness.plugins.steer.hooks import steer_fn
from tom_harness.plugins.steer.vector import random_like
from tests.test_runner import TOY_TASKS, host, make_runner, toy_data  # noqa: F401  (fixtures)


def _resps(path):
    return {r["doc_id"]: r["resps"] for r in map(json.loads, path.read_text().splitlines())}


def test_add_and_clamp_arithmetic():
    h = torch.tensor([[[1.0, 2.0, 3.0]]])
    v = torch.tensor([0.0, 3.0, 4.0])
    assert torch.equal(steer_fn(v, 2.0, "add")(h), h + 2 * v)
    clamped = steer_fn(v, 1.5, "clamp")(h)
    d = v / 5
    assert torch.allclose((clamped * d).sum(-1), torch.tensor([[1.5]]))
    assert torch.allclose(clamped - h, d * (1.5 - (h * d).sum(-1, keepdim=True)))


def test_random_control_keeps_norms_and_is_seeded():
    direction = torch.randn(3, 8)
    a, b, c = random_like(direction, 1), random_like(direction, 1), random_like(direction, 2)
    assert torch.allclose(a.norm(dim=-1), direction.norm(dim=-1)) and torch.equal(a, b) and not torch.equal(a, c)


def test_steer_rows_run_restore_and_match_lm_eval_steered(host, tiny_handle, tiny_model_dir, tmp_path):  # noqa: F811
    import lm_eval
    from lm_eval.models.hf_steered import SteeredModel
    from lm_eval.tasks import TaskManager

    out = tmp_path / "out"
    rows = ["none", "steer:layers=[0,1],alpha=6", "steer:layers=[1],alpha=6,control=random,seed=3",
            "steer:layers=[0],alpha=2,action=clamp", "steer:layers=[1],alpha=6,positions=generated"]
    summary = make_runner(host, tiny_handle, out, rows, tasks="toy_mc,toy_gen", log_samples=True).run()
    assert ("steer:layers=[1],alpha=6,positions=generated", "toy_mc") in summary.not_applicable
    cells = {c["intervention"]["label"]: c for c in map(lambda p: json.loads(p.read_text()), out.glob("cells/*/toy_mc.json"))}
    steered = cells["steer:layers=[0,1],alpha=6"]
    assert steered["metadata"]["restore_check"]["ok"] and steered["metadata"]["hooked_layers"] == 2
    assert steered["metadata"]["contrast"] == "tom" and steered["metadata"]["n_pos"] > 0
    rand = cells["steer:layers=[1],alpha=6,control=random,seed=3"]["metadata"]
    assert rand["vector_norms"]["1"] == pytest.approx(steered["metadata"]["vector_norms"]["1"], rel=1e-5)

    def samples(label, task):
        return _resps(out / "cells" / cells[label]["intervention"]["id"] / "samples" / task / f"{task}.jsonl")

    assert samples("steer:layers=[0,1],alpha=6", "toy_mc") != samples("none", "toy_mc")
    # the same vectors in plain lm-eval
    for label in ("steer:layers=[0,1],alpha=6", "steer:layers=[0],alpha=2,action=clamp"):
        pt = out / cells[label]["metadata"]["lm_eval_steer_file"]
        lm = SteeredModel(pretrained=str(tiny_model_dir), steer_path=str(pt), device="cpu", batch_size=4, max_length=512)
        res = lm_eval.simple_evaluate(model=lm, tasks=["toy_mc", "toy_gen"], task_manager=TaskManager(include_path=str(TOY_TASKS)),
                                      limit=3, log_samples=True, random_seed=0, numpy_random_seed=0, torch_random_seed=0,
                                      fewshot_random_seed=0)
        for task in ("toy_mc", "toy_gen"):
            theirs = {s["doc_id"]: json.loads(json.dumps(s["resps"])) for s in res["samples"][task]}
            assert theirs == samples(label, task), (label, task)


def test_bad_steer_inputs(host, tmp_path):  # noqa: F811
    bad = tmp_path / "c.json"
    bad.write_text(json.dumps({"positive": ["a"], "negative": []}))
    with pytest.raises(UsageError, match="negative is not"):
        host.build_interventions(f"steer:file={bad}")
    with pytest.raises(UsageError, match="no such file"):
        host.build_interventions(f"steer:file={tmp_path / 'missing.json'}")
