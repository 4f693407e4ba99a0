"""The core model-surgery module: blocks, target linears, residual hooks (HF layout, and a
module shaped like vLLM's, whose blocks return ``(hidden_states, residual)``)."""
import torch
from torch import nn

from tom_harness.model import surgery
from tom_harness.model.snapshot import diff_snapshots, snapshot


def test_blocks_and_targets_on_llama(tiny_handle):
    model = tiny_handle.model
    assert surgery.layout(model) == "hf"
    prefix, blocks = surgery.block_list(model)
    assert prefix == "model.layers" and surgery.decoder_blocks(model) == list(blocks)
    qv = surgery.target_linears(model, roles={"q", "v"})
    assert [t.role for t in qv] == ["q", "v", "q", "v"]
    assert qv[0].param == "model.layers.0.self_attn.q_proj.weight" and qv[0].shape == (32, 32)


def test_residual_hook_reads_and_writes_hf(tiny_handle):
    model, tok = tiny_handle.model, tiny_handle.tokenizer
    ids = torch.tensor([tok("Sally put the ball in the basket.")["input_ids"]])
    seen = []
    h = surgery.residual_hook(model, 0, lambda s: seen.append(s.clone()))
    with torch.no_grad():
        base = model(ids).logits
    h.remove()
    before = snapshot(model)
    handles = [surgery.residual_hook(model, 0, lambda s: torch.zeros_like(s))]
    surgery.keep(model, "t", handles)
    with torch.no_grad():
        zeroed = model(ids).logits
    assert surgery.release(model, "t") == 1 and diff_snapshots(before, snapshot(model))["ok"]
    assert seen[0].shape == (1, ids.shape[1], 32) and not torch.allclose(base, zeroed)


class _PairBlock(nn.Module):
    """vLLM-style: takes and returns (hidden, residual); the stream is their sum."""

    def __init__(self) -> None:
        super().__init__()
        self.mlp = nn.Module()
        self.mlp.down_proj = nn.Linear(4, 4)

    def forward(self, hidden, residual):
        stream = hidden if residual is None else hidden + residual
        return self.mlp.down_proj(stream), stream


class _PairModel(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.layers = nn.ModuleList(_PairBlock() for _ in range(3))

    def forward(self, x):
        h, r = x, None
        for layer in self.layers:
            h, r = layer(h, r)
        return h + r


_PairModel.__module__ = "vllm.model_executor.models.fake"  # what layout() looks at


def test_residual_hook_on_vllm_pair_sets_the_sum():
    model = _PairModel()
    assert surgery.layout(model) == "vllm"
    x = torch.randn(5, 4)
    seen = []
    h = surgery.residual_hook(model, 1, lambda s: seen.append(s.clone()))
    base = model(x)
    h.remove()
    sel = torch.tensor([True, False, True, False])
    h = surgery.residual_hook(model, 1, lambda s: torch.where(sel, torch.zeros(()), s))
    out = model(x)
    h.remove()
    # the same lesion written by hand on the stream after block 1
    hid, res = model.layers[0](x, None)
    hid, res = model.layers[1](hid, res)
    stream = torch.where(sel, torch.zeros(()), hid + res)
    hid, res = model.layers[2](torch.zeros_like(stream), stream)
    assert torch.equal(out, hid + res) and not torch.allclose(out, base)
    assert torch.equal(seen[0], model.layers[1](*model.layers[0](x, None))[0] + model.layers[1](*model.layers[0](x, None))[1])
    assert [t.role for t in surgery.target_linears(model)] == ["down"] * 3


def test_swapped_entries_change_the_digest(tiny_handle):
    w = tiny_handle.model.model.layers[0].mlp.up_proj.weight
    before = snapshot(tiny_handle.model)
    a, b = w.data[0, 0].clone(), w.data[1, 0].clone()
    w.data[0, 0], w.data[1, 0] = b, a
    assert diff_snapshots(before, snapshot(tiny_handle.model))["changed_tensors"] == ["model.layers.0.mlp.up_proj.weight"]
