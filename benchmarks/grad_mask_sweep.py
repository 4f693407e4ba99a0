"""Benchmark: a grad_mask m-sweep the harness way vs the paper's save-and-reload-per-point way.

On SmolLM2-135M (offline alias), in one process:

1. Fisher maps: time, tokens/s and peak resident memory of computing the ToM and generic maps.
2. Harness way: for each m, prepare (maps from the in-process memo), perturb in place, evaluate,
   restore the saved entries.
3. Reload way (Wu et al.'s released pipeline): for each m, perturb, ``save_pretrained`` the whole
   model to a temporary folder, reload it with ``from_pretrained``, evaluate.

The evaluation is the same small measure for both: perplexity on a few WikiText-2 test windows.
Both ways must give the same perplexities; the script checks it and prints the time ratio.

``--switch`` measures only the cost of switching the model to one sweep point and back, without
maps or evaluation, at two sizes (SmolLM2-135M and a random-init Llama about 4x larger): the
harness's in-place edit + restore + bit-identity check (one full digest of every tensor) against
``save_pretrained`` + ``from_pretrained`` of the edited model, the in-place switch both cold (each
matrix's sums for the mean computed, as at a sweep's first point) and warm (memoised by content,
as at later points). The warm edit is O(m*N) plus a content hash; the check and the reload O(N).

    HF_HUB_OFFLINE=1 TOM_HARNESS_DATA=../shared/data python benchmarks/grad_mask_sweep.py --points 5
    HF_HUB_OFFLINE=1 python benchmarks/grad_mask_sweep.py --switch
"""
from __future__ import annotations

import argparse
import gc
import math
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")


def peak_rss_mb() -> float:
    """Peak resident set size since the last reset (Linux VmHWM), else the process-lifetime peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False where unsupported."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def eval_windows(tokenizer, n: int, seqlen: int) -> list[torch.Tensor]:
    from tom_harness.data.roots import data_file

    text = data_file("wikitext2", "test.txt").read_text(encoding="utf-8")
    ids = tokenizer(text[: 200_000], add_special_tokens=False)["input_ids"]
    if len(ids) < n * seqlen:
        raise SystemExit("not enough evaluation text")
    return [torch.tensor([ids[i * seqlen : (i + 1) * seqlen]]) for i in range(n)]


def save_plain(model, out: Path) -> None:
    """``save_pretrained`` of a GGUF-loaded model as an ordinary (de-quantised) checkpoint."""
    quantizer, qconfig = getattr(model, "hf_quantizer", None), getattr(model.config, "quantization_config", None)
    model.hf_quantizer = None
    if qconfig is not None:
        del model.config.quantization_config
    try:
        model.save_pretrained(out)
    finally:
        model.hf_quantizer = quantizer
        if qconfig is not None:
            model.config.quantization_config = qconfig


@torch.no_grad()
def perplexity(model, windows: list[torch.Tensor]) -> float:
    losses = [model(input_ids=w, labels=w, use_cache=False).loss.item() for w in windows]
    return math.exp(sum(losses) / len(losses))


def _timed(fn) -> tuple[float, float, object]:
    """(wall s, CPU s, result) of ``fn()``."""
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - w, time.process_time() - c, out


def switch_costs(model, label: str, ms: tuple[float, ...], work: Path) -> None:
    """Edit + restore + check vs save + reload, one sweep point each, on ``model``."""
    from transformers import AutoModelForCausalLM

    from tom_harness.model.snapshot import diff_snapshots, snapshot
    from tom_harness.plugins.grad_mask.mask import k_for, random_indices
    from tom_harness.plugins.grad_mask.perturb import PlanEntry, apply_plan, clear_sums_memo, restore_saved
    from tom_harness.plugins.grad_mask.targets import find_targets

    targets = find_targets(model)
    size = sum(p.numel() * p.element_size() for p in model.parameters()) / 1e6
    before = snapshot(model)
    for m in ms:
        plan = [PlanEntry(t.param, t.layer, t.role, t.shape, random_indices(k_for(m, t.numel), t.numel, 0, t.param))
                for t in targets]
        k = sum(int(e.index.numel()) for e in plan)
        switch = {}
        for state in ("cold", "warm"):  # cold: the per-matrix sums are computed; warm: memoised
            if state == "cold":
                clear_sums_memo()
            e_w, e_c, saved = _timed(lambda: apply_plan(model, plan, "mean", 0.0)["saved"])
            r_w, r_c, _ = _timed(lambda: restore_saved(model, saved))
            c_w, c_c, after = _timed(lambda: snapshot(model))
            assert diff_snapshots(before, after)["ok"], "model not restored"
            switch[state] = (e_w, r_w, c_w, e_w + r_w + c_w, e_c + r_c + c_c)
        out = work / "reload"

        def reload():
            saved2 = apply_plan(model, plan, "mean", 0.0)["saved"]
            save_plain(model, out)
            restore_saved(model, saved2)
            return AutoModelForCausalLM.from_pretrained(out, dtype=next(model.parameters()).dtype)

        l_w, l_c, reloaded = _timed(reload)
        del reloaded
        gc.collect()
        shutil.rmtree(out)
        for state, (e_w, r_w, c_w, inplace_w, inplace_c) in switch.items():
            print(f"{label:>22} {size:7.0f} MB m={m:<7g} k={k:<8d} {state}: edit {e_w:.3f} restore {r_w:.3f} "
                  f"check {c_w:.3f} = {inplace_w:.3f} s (CPU {inplace_c:.3f}) | save+reload {l_w:.3f} s "
                  f"(CPU {l_c:.3f}) | reload / in place {l_w / inplace_w:.1f}x")


def switch_main(ms: tuple[float, ...]) -> None:
    from transformers import LlamaConfig, LlamaForCausalLM

    from tom_harness.backends.loading import load_hf
    from tom_harness.plugins.builtin import smollm2_resolve

    work = Path(tempfile.mkdtemp(prefix="gm_switch_"))
    try:
        smol = load_hf(smollm2_resolve(), "cpu", 1).model
        switch_costs(smol, "SmolLM2-135M", ms, work)
        cfg = smol.config.to_dict()
        del smol
        gc.collect()
        cfg.update(hidden_size=1152, intermediate_size=3072, num_attention_heads=18, num_key_value_heads=6, head_dim=64)
        cfg.pop("quantization_config", None)
        torch.manual_seed(0)
        big = LlamaForCausalLM(LlamaConfig(**{k: v for k, v in cfg.items() if k not in ("architectures",)})).eval()
        switch_costs(big, "random-init 4x (h=1152)", ms, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--switch", action="store_true", help="only the switch cost at two model sizes")
    ap.add_argument("--points", type=int, default=5, help="sweep points (m = 0 .. m_max)")
    ap.add_argument("--m_max", type=float, default=4e-5)
    ap.add_argument("--n_tom", type=int, default=100)
    ap.add_argument("--n_generic", type=int, default=100)
    ap.add_argument("--eval_windows", type=int, default=4)
    ap.add_argument("--eval_seqlen", type=int, default=256)
    args = ap.parse_args()
    if args.switch:
        return switch_main((1e-5, 1e-3))

    from transformers import AutoModelForCausalLM

    from tom_harness.cache.artifacts import ArtifactCache
    from tom_harness.api.context import RunContext
    from tom_harness.model.snapshot import diff_snapshots, snapshot
    from tom_harness.backends.loading import load_hf
    from tom_harness.plugins.builtin import smollm2_resolve
    from tom_harness.plugins.grad_mask.intervention import GradMask
    from tom_harness.plugins.grad_mask.perturb import apply_plan, restore_saved

    torch.manual_seed(0)
    t0 = time.perf_counter()
    handle = load_hf(smollm2_resolve(), "cpu", 1)
    model = handle.model
    print(f"model load: {time.perf_counter() - t0:.1f} s, dtype {next(model.parameters()).dtype}, "
          f"{sum(p.numel() for p in model.parameters()) / 1e6:.1f} M params, peak RSS {peak_rss_mb():.0f} MB")
    windows = eval_windows(handle.tokenizer, args.eval_windows, args.eval_seqlen)
    grid = [args.m_max * i / (args.points - 1) for i in range(args.points)] if args.points > 1 else [args.m_max]
    work = Path(tempfile.mkdtemp(prefix="gm_bench_"))
    try:
        ctx = RunContext(handle=handle, cache=ArtifactCache(work / "artifacts"), caller=None, show_progress=False)
        common = {"n_tom": args.n_tom, "n_generic": args.n_generic}

        # 1. maps
        rss_before = peak_rss_mb()
        exact_peak = reset_peak_rss()
        t0 = time.perf_counter()
        first = GradMask(m=grid[-1], **common)
        first.prepare(ctx)
        maps_s = time.perf_counter() - t0
        print(f"Fisher maps: {maps_s:.1f} s total (incl. tokenising, caching to disk)")
        for which, info in first.metadata["maps"].items():
            print(f"  {which:8s} {info['samples']} samples, {info['tokens']} tokens, {info['seconds']:.1f} s, "
                  f"{info['tokens_per_second']:.1f} tokens/s; {info['seconds'] / max(1, info['samples']):.1f} s/sample")
        print(f"  peak RSS during maps: {peak_rss_mb():.0f} MB ({'reset before' if exact_peak else 'process peak'}; "
              f"{rss_before:.0f} MB before)")
        print(f"  mask at m={grid[-1]:g}: {first.metadata['weights_perturbed']} weights of "
              f"{first.metadata['weights_scored']} scored; by role {first.metadata['weights_perturbed_by_role']}")

        # 2. harness way: prepare (mask from the memoised maps), perturb in place, eval, restore
        before = snapshot(model)
        phases = {"harness": {"mask": 0.0, "edit": 0.0, "eval": 0.0}, "reload": {"mask": 0.0, "edit": 0.0, "eval": 0.0}}
        harness_ppl, counts = [], []
        t0 = time.perf_counter()
        for m in grid:
            t = time.perf_counter()
            iv = GradMask(m=m, **common)
            iv.prepare(ctx)
            counts.append(iv.metadata["weights_perturbed"])
            t1 = time.perf_counter()
            iv.apply(ctx)
            t2 = time.perf_counter()
            harness_ppl.append(perplexity(model, windows))
            t3 = time.perf_counter()
            iv.remove(ctx)
            ph = phases["harness"]
            ph["mask"] += t1 - t
            ph["edit"] += (t2 - t1) + (time.perf_counter() - t3)
            ph["eval"] += t3 - t2
        harness_s = time.perf_counter() - t0
        assert diff_snapshots(before, snapshot(model))["ok"], "model not restored"

        # 3. the released pipeline's way: same mask, then save the edited model and reload it
        t0 = time.perf_counter()
        reload_ppl = []
        for m in grid:
            t = time.perf_counter()
            iv = GradMask(m=m, **common)
            iv.prepare(ctx)
            t1 = time.perf_counter()
            out = work / f"m_{m:g}"
            saved = apply_plan(model, iv.plan, "mean", 0.0)["saved"]
            save_plain(model, out)
            handle.tokenizer.save_pretrained(out)
            restore_saved(model, saved)
            reloaded = AutoModelForCausalLM.from_pretrained(out, dtype=next(model.parameters()).dtype).eval()
            t2 = time.perf_counter()
            reload_ppl.append(perplexity(reloaded, windows))
            t3 = time.perf_counter()
            del reloaded
            gc.collect()
            shutil.rmtree(out)
            ph = phases["reload"]
            ph["mask"] += t1 - t
            ph["edit"] += (t2 - t1) + (time.perf_counter() - t3)
            ph["eval"] += t3 - t2
        reload_s = time.perf_counter() - t0
        assert diff_snapshots(before, snapshot(model))["ok"], "model not restored"

        print(f"\nsweep of {len(grid)} points, eval = perplexity on {args.eval_windows} x {args.eval_seqlen} tokens")
        print(f"{'m':>10} {'weights':>8} {'ppl (in place)':>15} {'ppl (reload)':>13}")
        for m, n, a, b in zip(grid, counts, harness_ppl, reload_ppl):
            print(f"{m:10.3g} {n:8d} {a:15.4f} {b:13.4f}")
        same = all(abs(a - b) <= 1e-6 * max(1.0, abs(a)) for a, b in zip(harness_ppl, reload_ppl))
        print(f"perplexities agree: {same}")
        print(f"harness (in place): {harness_s:.2f} s  ({harness_s / len(grid):.2f} s/point)")
        print(f"save + reload:      {reload_s:.2f} s  ({reload_s / len(grid):.2f} s/point)")
        for way, ph in phases.items():
            print(f"  {way:8s} per point: mask {ph['mask'] / len(grid):.2f} s, edit/save/load {ph['edit'] / len(grid):.2f} s, "
                  f"eval {ph['eval'] / len(grid):.2f} s")
        print(f"ratio reload / in place: {reload_s / harness_s:.2f}x")
        print(f"process peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
