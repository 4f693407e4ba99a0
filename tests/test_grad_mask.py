"""Faithfulness of grad_mask on a tiny random Llama: maps, masks, apply/restore, control, caching."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from tom_harness.cache.artifacts import ArtifactCache, clear_memory
from tom_harness.api.context import RunContext
from tom_harness.api.errors import UsageError
from tom_harness.model.snapshot import diff_snapshots, snapshot
from tom_harness.plugins.grad_mask.intervention import GradMask, build_plan, resolve_generic
from tom_harness.plugins.grad_mask.mask import k_for, random_indices, select
from tom_harness.plugins.grad_mask.perturb import apply_plan, restore_saved
from tom_harness.plugins.grad_mask.sensitivity import (
    generic_samples, squared_grad_maps, tom_samples, wikitext_documents,
)
from tom_harness.plugins.grad_mask.targets import find_targets

SMALL = {"n_tom": 3, "n_generic": 2, "generic_seqlen": 24}


@pytest.fixture(autouse=True)
def _fresh_memo():
    clear_memory()
    yield
    clear_memory()


# -- targets -----------------------------------------------------------------------------------
def test_targets_are_the_seven_llama_projections(tiny_handle):
    targets = find_targets(tiny_handle.model)
    assert [t.role for t in targets[:7]] == ["q", "k", "v", "o", "gate", "up", "down"]
    assert len(targets) == 14 and {t.layer for t in targets} == {0, 1}
    assert targets[1].param == "model.layers.0.self_attn.k_proj.weight" and targets[1].shape == (16, 32)


class _Block(nn.Module):
    """A GPT-2-like block with other names (fused qkv, c_proj twice) and an MoE router."""

    def __init__(self):
        super().__init__()
        self.attn = nn.Module()
        self.attn.c_attn = nn.Linear(8, 24)
        self.attn.c_proj = nn.Linear(8, 8)
        self.mlp = nn.Module()
        self.mlp.c_fc = nn.Linear(8, 16)
        self.mlp.c_proj = nn.Linear(16, 8)
        self.mlp.gate = nn.Linear(8, 4)


def test_targets_found_by_type_on_other_architectures():
    model = nn.Module()
    model.wte = nn.Embedding(10, 8)
    model.h = nn.ModuleList([_Block(), _Block(), _Block()])
    model.lm_head = nn.Linear(8, 10)
    targets = find_targets(model)
    assert [(t.param, t.role) for t in targets[:4]] == [
        ("h.0.attn.c_attn.weight", "qkv"), ("h.0.attn.c_proj.weight", "o"),
        ("h.0.mlp.c_fc.weight", "up"), ("h.0.mlp.c_proj.weight", "down"),
    ]
    assert len(targets) == 12 and not any("lm_head" in t.param or "gate" in t.param for t in targets)


# -- maps --------------------------------------------------------------------------------------
def _brute_force(model, targets, samples, last_only):
    params = dict(model.named_parameters())
    ws = [params[t.param] for t in targets]
    total = [torch.zeros(w.shape) for w in ws]
    for ids in samples:
        x = torch.tensor([ids])
        labels = x.clone()
        if last_only:
            labels[0, :-1] = -100
        loss = model(input_ids=x, labels=labels).loss  # the HF loss the paper uses
        grads = torch.autograd.grad(loss, ws)
        for acc, g in zip(total, grads):
            acc += g.float() ** 2
    return {t.param: acc for t, acc in zip(targets, total)}


@pytest.mark.parametrize("last_only", [True, False])
def test_squared_grad_maps_equal_brute_force_per_sample(tiny_handle, last_only):
    model = tiny_handle.model
    targets = find_targets(model)
    gen = torch.Generator().manual_seed(1)
    samples = [torch.randint(0, 1000, (n,), generator=gen).tolist() for n in (7, 12, 5)]
    flags = {n: p.requires_grad for n, p in model.named_parameters()}
    maps, stats = squared_grad_maps(model, targets, samples, last_only)
    expected = _brute_force(model, targets, samples, last_only)
    assert stats.samples == 3 and stats.tokens == 24
    for t in targets:
        assert maps[t.param].dtype == torch.float32
        # float rounding only (the last-token path skips unused logits): tight relative tolerance
        scale = float(expected[t.param].abs().max())
        assert scale > 0
        torch.testing.assert_close(maps[t.param], expected[t.param], rtol=1e-4, atol=1e-6 * scale)
    assert {n: p.requires_grad for n, p in model.named_parameters()} == flags
    assert all(p.grad is None for p in model.parameters())


def test_samples_follow_the_paper_recipe(tiny_handle, shared_data):
    import json
    import random

    tok = tiny_handle.tokenizer
    path = shared_data / "sparse_tom" / "fisher_prompts.json"
    got = tom_samples(tok, path, 4, seed=0)
    order = list(range(640))
    random.seed(0)
    random.shuffle(order)
    texts = [r["txt"] for r in json.loads(path.read_text())]
    assert got == [tok(texts[i], add_special_tokens=False)["input_ids"] for i in order[:4]]
    assert all(ids[0] != tok.bos_token_id for ids in got)
    docs = wikitext_documents(shared_data / "wikitext2" / "valid.txt")
    assert len(docs) > 50 and docs[0].startswith("= Homarus gammarus =")
    windows = generic_samples(tok, docs, 3, 32, seed=0)
    assert [len(w) for w in windows] == [32, 32, 32] and windows == generic_samples(tok, docs, 3, 32, seed=0)
    assert windows != generic_samples(tok, docs, 3, 32, seed=1)


# -- masks -------------------------------------------------------------------------------------
def _direct_top(values: list[float], k: int, rule: str) -> set[int]:
    if k <= 0:
        return set()
    if rule == "paper":
        kth = sorted(values, reverse=True)[k - 1]
        return {j for j, v in enumerate(values) if v > kth}
    return set(sorted(range(len(values)), key=lambda j: (-values[j], j))[:k])


@pytest.mark.parametrize("rule", ["paper", "exact"])
@pytest.mark.parametrize("exclude", [True, False])
def test_mask_matches_direct_formula_with_ties(rule, exclude):
    gen = torch.Generator().manual_seed(3)
    tom = torch.randint(0, 6, (10, 12), generator=gen).float()  # many ties
    gen_map = torch.randint(0, 6, (10, 12), generator=gen).float()
    for m in (0.0, 0.005, 1 / 120, 0.05, 0.1, 0.25, 0.5):
        k = k_for(m, 120)
        want = _direct_top(tom.flatten().tolist(), k, rule)
        if exclude:
            want -= _direct_top(gen_map.flatten().tolist(), k, rule)
        got = select(tom, gen_map, m, rule, exclude)
        assert set(got.tolist()) == want, (m, k)
        assert got.tolist() == sorted(got.tolist())


def test_paper_rule_edge_cases():
    scores = torch.tensor([5.0, 4.0, 3.0, 2.0])
    assert select(scores, None, 0.25, "paper", False).tolist() == []  # k=1: strict > selects nothing
    assert select(scores, None, 0.5, "paper", False).tolist() == [0]  # k=2: k-1 entries
    assert select(scores, None, 0.5, "exact", False).tolist() == [0, 1]
    tied = torch.tensor([1.0, 3.0, 3.0, 3.0, 0.0])
    assert select(tied, None, 0.4, "paper", False).tolist() == []  # k-th value tied with the top
    assert select(tied, None, 0.4, "exact", False).tolist() == [1, 2]
    assert k_for(1e-5, 4096 * 4096) == 167 and k_for(1e-5, 1024 * 4096) == 41  # the note's sizes
    assert k_for(0.0, 10**9) == 0 and k_for(2e-6, 1024 * 4096) == 8


def test_random_control_same_count_seeded():
    idx = random_indices(7, 500, seed=0, name="w")
    assert idx.numel() == 7 == len(set(idx.tolist())) and idx.max() < 500
    assert torch.equal(idx, random_indices(7, 500, seed=0, name="w"))
    assert not torch.equal(idx, random_indices(7, 500, seed=1, name="w"))
    assert random_indices(0, 500, 0, "w").numel() == 0


def test_random_control_plan_has_the_mask_size_per_matrix(tiny_handle):
    targets = find_targets(tiny_handle.model)
    gen = torch.Generator().manual_seed(0)
    tom = {t.param: torch.rand(t.shape, generator=gen) for t in targets}
    generic = {t.param: torch.rand(t.shape, generator=gen) for t in targets}
    real = build_plan(targets, tom, generic, 0.05, "paper", True, "none", 0)
    ctrl = build_plan(targets, tom, generic, 0.05, "paper", True, "random", 0)
    assert sum(e.index.numel() for e in real) > 0
    for a, b in zip(real, ctrl):
        assert a.param == b.param and a.index.numel() == b.index.numel()
    assert any(not torch.equal(a.index, b.index) for a, b in zip(real, ctrl))


# -- apply / restore through the intervention ----------------------------------------------------
def _ctx(handle, root, shared_data):
    return RunContext(handle=handle, cache=ArtifactCache(root), caller=None, show_progress=False,
                      data_root=shared_data)


@pytest.mark.parametrize("perturb,scale", [("mean", 0.0), ("zero", 0.0), ("mean", -1.0)])
def test_apply_writes_the_formula_and_restore_is_exact(tiny_handle, tmp_path, shared_data, perturb, scale):
    model = tiny_handle.model
    ctx = _ctx(tiny_handle, tmp_path, shared_data)
    iv = GradMask(m=0.05, perturb=perturb, scale=scale, **SMALL)
    iv.prepare(ctx)
    before = snapshot(model)
    params = dict(model.named_parameters())
    originals = {e.param: params[e.param].detach().clone() for e in iv.plan}
    iv.apply(ctx)
    edited = {e.param for e in iv.plan if e.index.numel()}
    assert set(diff_snapshots(before, snapshot(model))["changed_tensors"]) == edited and edited
    for e in iv.plan:
        w0, w1 = originals[e.param].view(-1), params[e.param].detach().view(-1)
        keep = torch.ones(w0.numel(), dtype=torch.bool)
        keep[e.index] = False
        assert torch.equal(w0[keep], w1[keep])
        if e.index.numel():
            mu = 0.0 if perturb == "zero" else float((w0 * keep).sum() / w0.numel())
            torch.testing.assert_close(w1[e.index], mu + scale * (w0[e.index] - mu))
    assert iv.metadata["weights_perturbed"] == sum(e.index.numel() for e in iv.plan)
    iv.remove(ctx)
    assert diff_snapshots(before, snapshot(model))["ok"]


def test_sweep_reuses_maps_memo_then_cache(tiny_handle, tmp_path, shared_data):
    ctx = _ctx(tiny_handle, tmp_path, shared_data)
    first = GradMask(m=0.02, **SMALL)
    first.prepare(ctx)
    assert {v["source"] for v in first.metadata["maps"].values()} == {"computed"}
    assert first.metadata["maps"]["tom"]["tokens_per_second"] > 0
    second = GradMask(m=0.04, **SMALL)
    second.prepare(ctx)
    assert {v["source"] for v in second.metadata["maps"].values()} == {"memory"}
    assert second.metadata["maps"] == {k: {"key": v["key"], "source": "memory"} for k, v in first.metadata["maps"].items()}
    assert second.metadata["weights_perturbed"] >= first.metadata["weights_perturbed"]
    zero = GradMask(m=0.0, **SMALL)
    zero.prepare(ctx)
    assert zero.metadata["weights_perturbed"] == 0
    clear_memory()
    third = GradMask(m=0.02, **SMALL)
    third.prepare(_ctx(tiny_handle, tmp_path, shared_data))
    assert {v["source"] for v in third.metadata["maps"].values()} == {"disk"}
    assert [e.index.tolist() for e in third.plan] == [e.index.tolist() for e in first.plan]
    other = GradMask(m=0.02, **{**SMALL, "n_tom": 2})
    assert other.map_keys(ctx)["tom"][0] != third.metadata["maps"]["tom"]["key"]
    assert other.map_keys(ctx)["generic"][0] == third.metadata["maps"]["generic"]["key"]
    assert "generic" not in GradMask(m=0.02, exclude_generic=False, **SMALL).map_keys(ctx)


def test_generic_corpus_resolution(tmp_path, shared_data, monkeypatch):
    monkeypatch.setenv("TOM_HARNESS_DATA", str(shared_data))
    assert resolve_generic("auto")[0] == "wikitext2_valid"
    assert resolve_generic("wikitext2_test")[1][0].name == "test.txt"
    with pytest.raises(UsageError, match="generic"):
        resolve_generic("c4")
    monkeypatch.setenv("TOM_HARNESS_DATA", str(tmp_path))
    with pytest.raises(UsageError, match="no generic corpus"):
        resolve_generic("auto")


def test_generic_corpus_is_read_through_the_data_api(tmp_path, shared_data, monkeypatch):
    """Every data root is searched (the corpus may sit in the second), and the registry's sha256
    is checked: an edited WikiText file is an error naming it, never a silent fallback."""
    import os

    from tom_harness.api.errors import DataMissingError

    first, edited = tmp_path / "first", tmp_path / "edited"
    (first / "tomi").mkdir(parents=True)
    monkeypatch.setenv("TOM_HARNESS_DATA", os.pathsep.join([str(first), str(shared_data)]))
    name, files = resolve_generic("auto")
    assert name == "wikitext2_valid" and files == [shared_data / "wikitext2" / "valid.txt"]
    (edited / "wikitext2").mkdir(parents=True)
    (edited / "wikitext2" / "valid.txt").write_text("= Edited =\n\nnot the pinned file\n")
    monkeypatch.setenv("TOM_HARNESS_DATA", os.pathsep.join([str(edited), str(shared_data)]))
    with pytest.raises(DataMissingError, match="wikitext2/valid.txt"):
        resolve_generic("auto")


# -- vLLM's fused layout --------------------------------------------------------------------------
class _Fused(nn.Module):
    """The tiny Llama's weights in vLLM's layout: qkv_proj and gate_up_proj stacked by rows."""

    def __init__(self, hf: nn.Module):
        super().__init__()
        self.model = nn.Module()
        self.model.layers = nn.ModuleList()
        for layer in hf.model.layers:
            blk = nn.Module()
            a, m = layer.self_attn, layer.mlp
            blk.self_attn = nn.Module()
            blk.self_attn.qkv_proj = nn.Linear(1, 1, bias=False)
            blk.self_attn.qkv_proj.weight = nn.Parameter(torch.cat([a.q_proj.weight, a.k_proj.weight, a.v_proj.weight]).detach().clone())
            blk.self_attn.o_proj = nn.Linear(1, 1, bias=False)
            blk.self_attn.o_proj.weight = nn.Parameter(a.o_proj.weight.detach().clone())
            blk.mlp = nn.Module()
            blk.mlp.gate_up_proj = nn.Linear(1, 1, bias=False)
            blk.mlp.gate_up_proj.weight = nn.Parameter(torch.cat([m.gate_proj.weight, m.up_proj.weight]).detach().clone())
            blk.mlp.down_proj = nn.Linear(1, 1, bias=False)
            blk.mlp.down_proj.weight = nn.Parameter(m.down_proj.weight.detach().clone())
            self.model.layers.append(blk)


def test_plan_applies_identically_to_fused_layout(tiny_handle):
    hf = tiny_handle.model
    fused = _Fused(hf)
    targets = find_targets(hf)
    gen = torch.Generator().manual_seed(5)
    tom = {t.param: torch.rand(t.shape, generator=gen) for t in targets}
    plan = build_plan(targets, tom, None, 0.05, "exact", False, "none", 0)
    before = snapshot(fused)
    out_hf = apply_plan(hf, plan, "mean", 0.0)
    out_fused = apply_plan(fused, plan, "mean", 0.0)
    for i, layer in enumerate(hf.model.layers):
        a, m = layer.self_attn, layer.mlp
        torch.testing.assert_close(fused.model.layers[i].self_attn.qkv_proj.weight,
                                   torch.cat([a.q_proj.weight, a.k_proj.weight, a.v_proj.weight]), rtol=0, atol=0)
        torch.testing.assert_close(fused.model.layers[i].mlp.gate_up_proj.weight,
                                   torch.cat([m.gate_proj.weight, m.up_proj.weight]), rtol=0, atol=0)
    assert restore_saved(fused, out_fused["saved"]) == sum(e.index.numel() for e in plan)
    restore_saved(hf, out_hf["saved"])
    assert diff_snapshots(before, snapshot(fused))["ok"]
