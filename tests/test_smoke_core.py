"""The core contract pieces plugins build on: handle, fingerprint, caller, integrity."""
import torch

from tom_harness.model.snapshot import diff_snapshots, snapshot


def test_handle_fingerprint_and_caller(run_ctx):
    fp = run_ctx.handle.fingerprint
    assert len(fp) == 64
    out = run_ctx.caller.generate(["Once upon a time"], max_gen_toks=5)
    assert isinstance(out[0], str)
    again = run_ctx.caller.generate(["Once upon a time"], max_gen_toks=5)
    assert again == out
    assert run_ctx.caller.stats.calls == 1 and run_ctx.caller.stats.cached == 1


def test_snapshot_detects_single_entry_change(tiny_handle):
    model = tiny_handle.model
    before = snapshot(model)
    w = model.model.layers[0].self_attn.q_proj.weight
    old = w.data[3, 5].clone()
    w.data[3, 5] = torch.nextafter(old, old + 1)
    rep = diff_snapshots(before, snapshot(model))
    assert not rep["ok"] and rep["changed_tensors"] == ["model.layers.0.self_attn.q_proj.weight"]
    w.data[3, 5] = old
    assert diff_snapshots(before, snapshot(model))["ok"]
    h = model.model.layers[1].register_forward_hook(lambda m, i, o: o)
    assert diff_snapshots(before, snapshot(model))["hook_changes"] == ["model.layers.1"]
    h.remove()
    assert diff_snapshots(before, snapshot(model))["ok"]
