"""Benchmark: a grad_mask m-sweep the harness way vs the paper's save-and-reload-per-point way.

On SmolLM2-135M (offline alias), in one process:

1. Fisher maps: time, tokens/s and peak resident memory of computing the ToM and generic maps.
2. Harness way: for each m, prepare (maps from the in-process memo), perturb in place, evaluate,
   restore the saved entries.
3. Reload way (Wu et al.'s released pipeline): for each m, perturb, ``save_pretrained`` the whole
   model to a temporary folder, reload it with ``from_pretrained``, evaluate.

The evaluation is the same small measure for both: perplexity on a few WikiText-2 test windows.
Both ways must give the same perplexities; the script checks it and prints the time ratio.

    HF_HUB_OFFLINE=1 TOM_HARNESS_DATA=../shared/data python benchmarks/grad_mask_sweep.py --points 5
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
    from tom_harness.datadir import data_file

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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=5, help="sweep points (m = 0 .. m_max)")
    ap.add_argument("--m_max", type=float, default=4e-5)
    ap.add_argument("--n_tom", type=int, default=100)
    ap.add_argument("--n_generic", type=int, default=100)
    ap.add_argument("--eval_windows", type=int, default=4)
    ap.add_argument("--eval_seqlen", type=int, default=256)
    args = ap.parse_args()

    from transformers import AutoModelForCausalLM

    from tom_harness.cache import ArtifactCache
    from tom_harness.context import RunContext
    from tom_harness.integrity import compare, snapshot
    from tom_harness.models import load_hf, smollm2_resolve
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
                  f"{info['tokens_per_second']:.0f} tokens/s")
        print(f"  peak RSS during maps: {peak_rss_mb():.0f} MB ({'reset before' if exact_peak else 'process peak'}; "
              f"{rss_before:.0f} MB before)")
        print(f"  mask at m={grid[-1]:g}: {first.metadata['weights_perturbed']} weights of "
              f"{first.metadata['weights_scored']} scored; by role {first.metadata['weights_perturbed_by_role']}")

        # 2. harness way
        before = snapshot(model)
        t0 = time.perf_counter()
        harness_ppl = []
        plans = {}
        for m in grid:
            iv = GradMask(m=m, **common)
            iv.prepare(ctx)
            plans[m] = iv.plan
            iv.apply(ctx)
            harness_ppl.append(perplexity(model, windows))
            iv.remove(ctx)
        harness_s = time.perf_counter() - t0
        assert compare(before, model)["ok"], "model not restored"

        # 3. save-and-reload per point
        t0 = time.perf_counter()
        reload_ppl = []
        for m in grid:
            out = work / f"m_{m:g}"
            saved = apply_plan(model, plans[m], "mean", 0.0)["saved"]
            save_plain(model, out)
            handle.tokenizer.save_pretrained(out)
            restore_saved(model, saved)
            reloaded = AutoModelForCausalLM.from_pretrained(out, dtype=next(model.parameters()).dtype).eval()
            reload_ppl.append(perplexity(reloaded, windows))
            del reloaded
            gc.collect()
            shutil.rmtree(out)
        reload_s = time.perf_counter() - t0
        assert compare(before, model)["ok"], "model not restored"

        print(f"\nsweep of {len(grid)} points, eval = perplexity on {args.eval_windows} x {args.eval_seqlen} tokens")
        print(f"{'m':>10} {'weights':>8} {'ppl (in place)':>15} {'ppl (reload)':>13}")
        for m, a, b in zip(grid, harness_ppl, reload_ppl):
            print(f"{m:10.3g} {sum(e.index.numel() for e in plans[m]):8d} {a:15.4f} {b:13.4f}")
        same = all(abs(a - b) <= 1e-6 * max(1.0, abs(a)) for a, b in zip(harness_ppl, reload_ppl))
        print(f"perplexities agree: {same}")
        print(f"harness (in place): {harness_s:.2f} s  ({harness_s / len(grid):.2f} s/point)")
        print(f"save + reload:      {reload_s:.2f} s  ({reload_s / len(grid):.2f} s/point)")
        print(f"ratio reload / in place: {reload_s / harness_s:.2f}x")
        print(f"process peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
