"""The localizer plugin on a tiny random Llama: extraction, statistics, selection, lesions, caching."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats as sps
from torch import nn

from tom_harness.model.activations import block_hidden, decoder_blocks, extract
from tom_harness.cache.artifacts import clear_memory
from tom_harness.api.errors import UsageError
from tom_harness.model.snapshot import diff_snapshots, snapshot
from tom_harness.api.params import expand
from tom_harness.plugins.localizer import LocalizerIntervention, lesion, tmap as tmap_mod
from tom_harness.plugins.localizer.select import select_units, unit_count
from tom_harness.plugins.localizer.stats import benjamini_hochberg, welch_t
from tom_harness.data.stimuli import load_stimuli

TEXTS = [
    "Sally puts the marble in the basket and leaves the room.",
    "Hi",
    "The photograph shows the old bridge before the flood washed it away in the spring storm.",
    "Anne moves the marble to the box.",
    "x",
    "Where will Sally look for her marble when she comes back?",
]


def _capture(model: nn.Module, ids: torch.Tensor) -> list[torch.Tensor]:
    """Block outputs of one forward pass, hooks added last so they see any lesion hook's result."""
    seen: list[torch.Tensor] = []
    handles = [b.register_forward_hook(lambda m, a, o: seen.append(block_hidden(o).clone()))
               for b in decoder_blocks(model)]
    try:
        with torch.no_grad():
            model(input_ids=ids)
    finally:
        for h in handles:
            h.remove()
    return seen


def _ids(handle, text: str = "Sally thinks the marble is in the basket.") -> torch.Tensor:
    return torch.tensor([handle.tokenizer(text)["input_ids"]])


# -- stimuli ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("network,n_pos,n_neg", [("tom", 10, 10), ("tom_ext", 95, 95), ("pain", 10, 10),
                                                 ("lang", 240, 240), ("md", 100, 100)])
def test_stimuli_counts(shared_data, network, n_pos, n_neg):
    s = load_stimuli(network)
    assert (len(s.positive), len(s.negative)) == (n_pos, n_neg)
    assert len(set(s.positive) & set(s.negative)) == 0


def test_stimuli_formats(shared_data):
    tom = load_stimuli("tom")
    first = tom.positive[0]
    assert "\nStory: Expecting the game to be postponed" in first and "Garcia family" in first
    assert first.split("\n")[-4:-1] == ["Options:", "- True", "- False"]
    assert first.rsplit("Answer: ", 1)[1] in ("True", "False")
    assert "\t" not in first and "  " not in first.split("\n")[1]
    assert load_stimuli("tom").positive == tom.positive  # answers are seeded
    assert all(p.startswith("Story: ") for p in load_stimuli("pain").positive)
    lang = load_stimuli("lang", max_tokens=12)
    assert lang.positive[0] == lang.positive[0].lower() and len(lang.positive[0].split()) == 12
    assert lang.max_tokens == 12 and lang.fingerprint != load_stimuli("lang").fingerprint
    md = load_stimuli("md")
    hard, easy = md.positive[0], md.negative[0]
    assert hard.startswith("Question: Solve ") and "\nAnswer: " in hard
    ops = [(" + " in h, " + " in e) for h, e in zip(md.positive, md.negative)]
    assert all(a == b for a, b in ops) and 20 < sum(a for a, _ in ops) < 80
    a, op, b = hard.split("Solve ")[1].split("?")[0].split()
    assert 100 <= int(a) < 200 and int(hard.rsplit(" ", 1)[1]) == (int(a) + int(b) if op == "+" else int(a) - int(b))


# -- units -----------------------------------------------------------------------------------------
class _ToyLM(nn.Module):
    """A minimal causal LM whose blocks return tuples (old transformers) or bare tensors."""

    def __init__(self, tuple_out: bool, layers: int = 3, hidden: int = 8) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.embed = nn.Embedding(50, hidden)
        self.blocks = nn.ModuleList(_ToyBlock(hidden, tuple_out) for _ in range(layers))
        self.vision = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(layers + 1))
        self.head = nn.Linear(hidden, 50)

    def forward(self, input_ids, attention_mask=None, use_cache=False):
        h = self.embed(input_ids)
        for block in self.blocks:
            h = block_hidden(block(h))
        return self.head(h)


class _ToyBlock(nn.Module):
    def __init__(self, hidden: int, tuple_out: bool) -> None:
        super().__init__()
        self.lin, self.tuple_out = nn.Linear(hidden, hidden), tuple_out

    def forward(self, h):
        out = h + torch.tanh(self.lin(h)).cumsum(1)  # causal: position i sees positions <= i
        return (out, None) if self.tuple_out else out


class _ToyTokenizer:
    pad_token_id = 0

    def __call__(self, text, add_special_tokens=True, truncation=False, max_length=None):
        ids = [1 + (ord(c) % 48) for c in text]
        return {"input_ids": ids[:max_length] if truncation else ids}


@pytest.mark.parametrize("tuple_out", [True, False])
def test_tuple_and_bare_block_outputs(tuple_out):
    model = _ToyLM(tuple_out)
    assert decoder_blocks(model) == list(model.blocks)  # a bigger "vision" list is not chosen
    batched = extract(model, _ToyTokenizer(), TEXTS, "last", batch_size=3, max_tokens=20)
    single = extract(model, _ToyTokenizer(), TEXTS, "last", batch_size=1, max_tokens=20)
    torch.testing.assert_close(batched.pooled, single.pooled, rtol=1e-5, atol=1e-5)
    mask = torch.zeros(3, 8, dtype=torch.bool)
    mask[1, [0, 6]] = True
    lesion.install(model, "toy", mask, torch.zeros(3, 8))
    try:
        out = model.blocks[1](torch.randn(2, 4, 8))
    finally:
        lesion.uninstall(model, "toy")
    assert isinstance(out, tuple) == tuple_out
    h = block_hidden(out)
    assert torch.all(h[..., [0, 6]] == 0) and torch.all(h[..., [1, 2, 3, 4, 5, 7]] != 0)


def test_decoder_blocks_found(tiny_handle):
    blocks = decoder_blocks(tiny_handle.model)
    assert blocks == list(tiny_handle.model.model.layers)


def test_truncation_to_max_tokens(tiny_handle):
    acts = extract(tiny_handle.model, tiny_handle.tokenizer, TEXTS, "last", max_tokens=5)
    assert max(acts.n_tokens) == 5


@pytest.mark.parametrize("pooling", ["mean", "mean_nofirst", "last"])
def test_batched_equals_one_at_a_time(tiny_handle, pooling):
    m, tok = tiny_handle.model, tiny_handle.tokenizer
    batched = extract(m, tok, TEXTS, pooling, batch_size=4)
    single = extract(m, tok, TEXTS, pooling, batch_size=1)
    assert batched.pooled.shape == (len(TEXTS), 2, 32)
    torch.testing.assert_close(batched.pooled, single.pooled, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(batched.token_mean, single.token_mean, rtol=1e-5, atol=1e-5)
    # and one-at-a-time equals a plain forward pass read through hooks
    ids = _ids(tiny_handle, TEXTS[0])
    outs = _capture(m, ids)
    ref = {"mean": [o[0].mean(0) for o in outs], "mean_nofirst": [o[0, 1:].mean(0) for o in outs],
           "last": [o[0, -1] for o in outs]}[pooling]
    torch.testing.assert_close(single.pooled[0], torch.stack(ref), rtol=1e-5, atol=1e-5)


# -- statistics ------------------------------------------------------------------------------------
@pytest.mark.parametrize("stat", ["abs", "signed"])
def test_welch_matches_scipy(stat):
    g = torch.Generator().manual_seed(0)
    pos = torch.randn(10, 3, 7, generator=g) + 0.3
    neg = torch.randn(12, 3, 7, generator=g) * 2
    t, p = welch_t(pos, neg, stat)
    x, y = (pos.abs(), neg.abs()) if stat == "abs" else (pos, neg)
    ref = sps.ttest_ind(x.double().numpy(), y.double().numpy(), axis=0, equal_var=False)
    np.testing.assert_allclose(t.numpy(), ref.statistic, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(p.numpy(), ref.pvalue, rtol=1e-6, atol=1e-12)
    q = benjamini_hochberg(p)
    np.testing.assert_allclose(q.numpy().ravel(), sps.false_discovery_control(ref.pvalue.ravel()), rtol=1e-9)


def test_constant_units_get_nan_and_bh_skips_them():
    pos, neg = torch.ones(4, 1, 3), torch.ones(5, 1, 3)
    pos[:, 0, 1] = torch.tensor([1.0, 2.0, 3.0, 4.0])
    t, p = welch_t(pos, neg, "signed")
    assert torch.isnan(t[0, 0]) and torch.isfinite(t[0, 1])
    q = benjamini_hochberg(p)
    assert torch.isnan(q[0, 0]) and torch.isfinite(q[0, 1])


# -- selection -------------------------------------------------------------------------------------
def test_selection_sizes_and_overlap():
    g = torch.Generator().manual_seed(1)
    t = torch.randn(4, 50, generator=g)
    t[0, 0] = float("nan")
    k = unit_count(t, 5)
    assert k == 10
    masks = {m: select_units(t, 5, m, seed=3) for m in ("top", "bottom", "both", "middle", "random")}
    for m, mask in masks.items():
        assert int(mask.sum()) == k, m
        assert not mask[0, 0], m  # NaN units are never chosen
    flat = t.reshape(-1)
    assert flat[masks["top"].reshape(-1)].min() >= flat[~masks["top"].reshape(-1) & ~flat.isnan()].max()
    assert flat[masks["bottom"].reshape(-1)].max() <= flat[~masks["bottom"].reshape(-1) & ~flat.isnan()].min()
    assert not (masks["top"] & masks["bottom"]).any()
    assert not (masks["top"] & masks["middle"]).any()
    assert (masks["both"] <= (masks["top"] | masks["bottom"])).all()
    draws = [select_units(t, 5, "random", seed=s) for s in range(20)]
    assert all(not (d & masks["top"]).any() for d in draws)
    assert torch.equal(select_units(t, 5, "random", seed=3), masks["random"])
    assert len({tuple(d.reshape(-1).nonzero().reshape(-1).tolist()) for d in draws}) == 20
    everywhere = [select_units(t, 5, "random", seed=s, random_pool="all") for s in range(20)]
    assert any((d & masks["top"]).any() for d in everywhere)
    assert select_units(t, 0, "top").sum() == 0
    with pytest.raises(UsageError, match="pct"):
        select_units(t, 101, "top")
    with pytest.raises(UsageError, match="outside the top set"):
        select_units(t, 60, "random")


# -- lesions ---------------------------------------------------------------------------------------
def test_zero_hooks_touch_only_chosen_dims(tiny_handle):
    model = tiny_handle.model
    ids = _ids(tiny_handle)
    clean = _capture(model, ids)
    mask = torch.zeros(2, 32, dtype=torch.bool)
    mask[0, [1, 5, 17]] = True
    mask[1, [2, 30]] = True
    before = snapshot(model)
    assert lesion.install(model, "t1", mask, torch.zeros(2, 32)) == 2
    hurt = _capture(model, ids)
    # layer 0: chosen dims are exactly 0 at every position, every other value is unchanged
    assert torch.all(hurt[0][..., mask[0]] == 0)
    assert torch.equal(hurt[0][..., ~mask[0]], clean[0][..., ~mask[0]])
    assert torch.all(hurt[1][..., mask[1]] == 0)
    assert not torch.equal(hurt[1], clean[1])
    assert lesion.uninstall(model, "t1") == 2
    assert diff_snapshots(before, snapshot(model))["ok"]
    assert all(torch.equal(a, b) for a, b in zip(_capture(model, ids), clean))


def test_mean_ablation_writes_means(tiny_handle):
    model = tiny_handle.model
    ids = _ids(tiny_handle)
    mask = torch.zeros(2, 32, dtype=torch.bool)
    mask[1, 4] = True
    fill = torch.arange(64, dtype=torch.float32).reshape(2, 32) / 10
    lesion.install(model, "m", mask, fill)
    try:
        out = _capture(model, ids)
    finally:
        lesion.uninstall(model, "m")
    assert torch.all(out[1][..., 4] == fill[1, 4])


# -- the intervention ------------------------------------------------------------------------------
def _tmap(ctx, iv) -> dict:
    """The row's t-map as the artifact cache holds it."""
    return ctx.cache.peek(tmap_mod.CACHE_KIND, iv.metadata["tmap_key"], fmt="tensors").value


def _make(**values) -> LocalizerIntervention:
    rows = expand("localizer", LocalizerIntervention.params, {k: str(v) for k, v in values.items()})
    assert len(rows) == 1
    return LocalizerIntervention(**rows[0])


def test_intervention_lifecycle_and_cache(run_ctx, shared_data):
    clear_memory()
    model = run_ctx.handle.model
    before = snapshot(model)
    top = _make(network="tom", pct=5, select="top")
    top.prepare(run_ctx)
    meta = top.metadata
    k = int(0.05 * 64)
    assert meta["tmap_cache"] == "computed" and not meta["tmap_cache_hit"]
    assert meta["units_selected"] == k == sum(meta["units_per_layer"]) and meta["overlap_with_top"] == k
    assert meta["n_positive"] == meta["n_negative"] == 10 and meta["pooling"] == "mean"
    ids = _ids(run_ctx.handle)
    clean = _capture(model, ids)
    top.apply(run_ctx)
    hurt = _capture(model, ids)
    assert any(torch.all(h[..., top._mask[i]] == 0) and top._mask[i].any() for i, h in enumerate(hurt))
    top.remove(run_ctx)
    assert diff_snapshots(before, snapshot(model))["ok"]
    assert all(torch.equal(a, b) for a, b in zip(_capture(model, ids), clean))

    rnd = _make(network="tom", pct=5, select="random", seeds=2)
    rnd.prepare(run_ctx)
    assert rnd.metadata["tmap_cache"] == "memory" and rnd.metadata["tmap_key"] == meta["tmap_key"]
    assert rnd.metadata["overlap_with_top"] == 0 and rnd.metadata["units_selected"] == k
    clear_memory()  # a new process: the artifact cache on disk answers
    again = _make(network="tom", pct=5, select="bottom")
    again.prepare(run_ctx)
    assert again.metadata["tmap_cache"] == "disk" and again.metadata["tmap_cache_hit"]
    assert again.metadata["tmap_key"] == meta["tmap_key"]


def test_signed_differs_from_abs_and_keys_differ(run_ctx, shared_data):
    clear_memory()
    maps = {}
    for stat in ("abs", "signed"):
        iv = _make(network="pain", pct=10, stat=stat)
        iv.prepare(run_ctx)
        maps[stat] = (iv.metadata["tmap_key"], _tmap(run_ctx, iv)["t"], iv._mask)
    assert maps["abs"][0] != maps["signed"][0]
    assert not torch.allclose(maps["abs"][1], maps["signed"][1])
    assert not torch.equal(maps["abs"][2], maps["signed"][2])


def test_paper_presets_and_mean_ablation(run_ctx, shared_data):
    lang = _make(network="lang", paper="alkhamissi", ablation="mean", pct=3)
    assert lang.settings().pooling == "last" and lang.settings().max_tokens == 12
    assert _make(network="lang").settings().pooling == "mean"
    assert _make(network="md", paper="alkhamissi").settings().pooling == "mean"
    md = _make(network="md", pct=3, ablation="mean", batch_size=16)
    md.prepare(run_ctx)
    mean = _tmap(run_ctx, md)["mean"]
    assert torch.equal(md._fill, mean) and md._fill.abs().sum() > 0


def test_bad_parameters_are_usage_errors():
    with pytest.raises(UsageError, match="network"):
        _make(network="tomm")
    with pytest.raises(UsageError, match="pct"):
        _make(pct=150)
    rows = expand("localizer", LocalizerIntervention.params, {"select": "random", "seeds": "0:5"})
    assert [r["seeds"] for r in rows] == [0, 1, 2, 3, 4]
    ivs = [LocalizerIntervention(**r) for r in rows]
    assert len({iv.group_label() for iv in ivs}) == 1 and len({iv.label() for iv in ivs}) == 5


def test_vllm_like_handle_localizes_on_an_hf_twin(run_ctx, tmp_path):
    """A handle with no in-process model (vLLM) computes its t-map on an HF copy of the same
    checkpoint (issue 13; this used to be refused), and gets the in-process t-map exactly."""
    from dataclasses import replace

    from tom_harness.cache.artifacts import ArtifactCache

    clear_memory()
    direct = _make()
    direct.prepare(run_ctx)
    want = _tmap(run_ctx, direct)["t"]
    clear_memory()
    handle = replace(run_ctx.handle, model=None, backend="vllm")
    ctx = replace(run_ctx, handle=handle, cache=ArtifactCache(tmp_path / "fresh"))
    twin = _make()
    twin.prepare(ctx)
    assert twin.metadata["tmap_cache"] == "computed"
    assert torch.equal(_tmap(ctx, twin)["t"], want)
    clear_memory()


def test_report_writer(run_ctx, shared_data, tmp_path):
    from dataclasses import replace

    import pandas as pd

    from tom_harness.plugins.localizer.report import selection_by_layer, write_reports

    clear_memory()
    ctx = replace(run_ctx, output_dir=tmp_path)
    cells = []
    for i, (sel, seed) in enumerate([("top", 0), ("random", 0), ("random", 1)]):
        iv = _make(network="tom", pct=10, select=sel, seeds=seed)
        iv.prepare(ctx)
        cells.append({"intervention": {"name": "localizer", "id": f"iv{i}", "label": iv.label(),
                                       "params": iv.values}, "metadata": iv.cell_metadata()})
    assert (tmp_path / cells[0]["metadata"]["tmap_file"]).exists()
    by_layer = selection_by_layer(cells)
    assert sorted(by_layer) == ["localizer:pct=10", "localizer:pct=10,select=random"]
    assert all(abs(sum(v) / len(v) - 100 * int(0.1 * 64) / 64) < 1e-9 for v in by_layer.values())
    written = write_reports(tmp_path, pd.DataFrame(), cells)
    names = sorted(p.name for p in written)
    assert "localizer_units_per_layer.png" in names and any(n.startswith("tmap_tom_abs_mean") for n in names)
    assert all(p.stat().st_size > 1000 for p in written)


def test_labels_show_seeds_only_for_random_draws():
    assert _make(select="top").label() == "localizer"
    assert _make(select="random", seeds=3).label() == "localizer:select=random,seeds=3"
    assert _make(select="random", seeds=3).group_label() == "localizer:select=random"
