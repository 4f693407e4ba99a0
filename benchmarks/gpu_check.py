"""The harness's costs at paper scale: one prepared run on a GPU (or a toy run on CPU), one JSON.

For random-initialised Llama-3.2-1B and Llama-3.1-8B shapes (bf16 on CUDA), in one process:

* **fisher**: squared-gradient (Fisher) map throughput of grad_mask's own code, tokens/s, and the
  share of the device's bf16 peak that 6 * parameters * tokens implies;
* **switch**: a grad_mask edit + restore + bit-identity check in place at m = 1e-5 and 1e-3,
  against ``save_pretrained`` + ``from_pretrained`` from local disk (the reload a harness without
  in-place edits would pay per condition);
* **restore_check**: the runner's snapshot digest alone, as bytes/s and a share of memory
  bandwidth, beside ``torch.equal`` against a device copy (equally exact, bandwidth-bound);
* **extraction**: localizer activation extraction, batched against one stimulus at a time;
* **cell**: one ``none`` cell through the harness against bare ``lm_eval.simple_evaluate`` on the
  same loaded model, for a generation task and a loglikelihood task.

Every comparison alternates its arms (``--repeats``, default 3) and reports medians and spread
with the load average (benchmarks/_measure.py). Absolute times sit beside every ratio.

    python benchmarks/gpu_check.py --device cuda --out gpu_check_out        # 1b + 8b, < 8 min on an H200
    python benchmarks/gpu_check.py --device cpu --toy --out /tmp/gpu_check  # toy shape, seconds (tests)
"""
from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _measure import alternate, load_average, load_verdict, ratio, timed  # noqa: E402
from _synthetic import loglikelihood_task, random_llama, story_texts, word_tokenizer  # noqa: E402

# Published dense peaks of the one accelerator this project is lent (NVIDIA H200 SXM).
PEAKS = {"H200": {"bf16_tflops": 989.4, "hbm_gbps": 4800.0}}


def sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def fisher(model: Any, device: str, n: int, length: int, peak: dict | None) -> dict:
    from tom_harness.plugins.grad_mask.sensitivity import squared_grad_maps
    from tom_harness.plugins.grad_mask.targets import find_targets

    import torch

    gen = torch.Generator().manual_seed(0)
    vocab = model.config.vocab_size
    samples = [torch.randint(4, vocab, (length,), generator=gen).tolist() for _ in range(n)]
    targets = find_targets(model)
    squared_grad_maps(model, targets, samples[:1], last_only=False)  # warm-up (kernels, allocator)
    sync(device)
    wall, cpu, (maps, stats) = timed(lambda: squared_grad_maps(model, targets, samples, last_only=False))
    params = sum(p.numel() for p in model.parameters())
    flops = 6 * params * stats.tokens
    out = {"samples": n, "tokens": stats.tokens, "wall_s": wall, "cpu_s": cpu,
           "tokens_per_s": stats.tokens / wall, "achieved_tflops": flops / wall / 1e12}
    if peak:
        out["share_of_bf16_peak"] = out["achieved_tflops"] / peak["bf16_tflops"]
    del maps
    return out


def switch(model: Any, device: str, m: float, repeats: int, reload_dir: Path) -> dict:
    from tom_harness.model.snapshot import diff_snapshots, snapshot
    from tom_harness.plugins.grad_mask.mask import k_for, random_indices
    from tom_harness.plugins.grad_mask.perturb import PlanEntry, apply_plan, restore_saved
    from tom_harness.plugins.grad_mask.targets import find_targets

    plan = [PlanEntry(t.param, t.layer, t.role, t.shape, random_indices(k_for(m, t.numel), t.numel, 0, t.param))
            for t in find_targets(model)]
    base = snapshot(model)

    def in_place() -> bool:
        saved = apply_plan(model, plan, perturb="mean", scale=0.0)["saved"]
        restore_saved(model, saved)
        ok = diff_snapshots(base, snapshot(model))["ok"]
        sync(device)
        return ok

    def reload() -> Any:
        from transformers import AutoModelForCausalLM

        fresh = AutoModelForCausalLM.from_pretrained(reload_dir, dtype=model.dtype).to(device)
        sync(device)
        return fresh

    cold_w, cold_c, ok = timed(in_place)  # first switch: per-matrix sums not yet memoised
    arms = alternate({"in_place": in_place, "reload": lambda: reload() and None}, repeats)
    if not all(arms["in_place"].results) or not ok:
        raise RuntimeError("restore check failed after an in-place switch")
    return {"m": m, "entries": sum(int(e.index.numel()) for e in plan), "cold_in_place_s": cold_w,
            "in_place": arms["in_place"].summary(), "reload": arms["reload"].summary(),
            "reload_over_in_place": ratio(arms["reload"], arms["in_place"])}


def restore_check(model: Any, device: str, repeats: int, peak: dict | None) -> dict:
    import torch

    from tom_harness.model.snapshot import snapshot

    tensors = dict(model.named_parameters()) | dict(model.named_buffers())
    nbytes = sum(t.numel() * t.element_size() for t in tensors.values())
    copies = {k: v.detach().clone() for k, v in tensors.items()}

    def digest() -> None:
        snapshot(model)
        sync(device)

    def equal() -> bool:
        ok = all(torch.equal(copies[k], v) for k, v in tensors.items())
        sync(device)
        return ok

    arms = alternate({"digest": digest, "equal": equal}, repeats)
    del copies
    out = {"bytes": nbytes, "digest": arms["digest"].summary(), "equal": arms["equal"].summary(),
           "digest_over_equal": ratio(arms["digest"], arms["equal"])}
    for name in ("digest", "equal"):
        gbps = nbytes / arms[name].summary()["median_wall"] / 1e9
        out[f"{name}_gbps"] = gbps
        if peak:
            # torch.equal reads both copies: twice the bytes cross the memory bus
            out[f"{name}_share_of_bandwidth"] = gbps * (2 if name == "equal" else 1) / peak["hbm_gbps"]
    return out


def extraction(model: Any, tokenizer: Any, texts: list[str], batch: int, repeats: int) -> dict:
    from tom_harness.model.activations import extract

    arms = alternate({f"batch_{batch}": lambda: extract(model, tokenizer, texts, batch_size=batch),
                      "one_at_a_time": lambda: extract(model, tokenizer, texts, batch_size=1)}, repeats)
    return {"stimuli": len(texts), f"batch_{batch}": arms[f"batch_{batch}"].summary(),
            "one_at_a_time": arms["one_at_a_time"].summary(),
            "one_over_batched": ratio(arms["one_at_a_time"], arms[f"batch_{batch}"])}


def cells(model: Any, tokenizer: Any, model_dir: Path, device: str, limit: int, repeats: int, work: Path) -> dict:
    """One `none` cell through the harness vs bare lm-eval, generation and loglikelihood."""
    import lm_eval
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    from tom_harness.api.context import ModelHandle
    from tom_harness.host.plugin_host import load_host
    from tom_harness.run.runner import MatrixRunner
    from tom_harness.spec.matrix import MatrixSpec

    import tom_harness.task_yamls as ty

    ll_task = loglikelihood_task(work / "tasks", story_texts(limit, seed=1))
    include = [str(Path(ty.__file__).parent), str(work / "tasks")]
    lm = HFLM(pretrained=model, tokenizer=tokenizer, batch_size=8, device=device, max_length=2048)
    handle = ModelHandle(backend="hf", name="random", lm=lm, tokenizer=tokenizer, model=model,
                         model_args={"pretrained": str(model_dir)})
    host = load_host()
    manager = TaskManager(include_path=include)
    out: dict[str, Any] = {}
    for task, gen in (("tomi_gen", {"max_gen_toks": 16}), (ll_task, None)):
        counter = iter(range(10**6))

        def harness() -> None:
            spec = MatrixSpec(model="hf", model_args={"pretrained": str(model_dir)}, tasks=[task],
                              interventions=["none"], limit=limit, batch_size=8, include_path=include,
                              gen_kwargs=dict(gen or {}))
            MatrixRunner(spec, host, work / f"cell_{task}_{next(counter)}", handle=handle, progress=False).run()
            sync(device)

        def bare() -> None:
            lm_eval.simple_evaluate(model=lm, tasks=[task], task_manager=manager, limit=limit,
                                    gen_kwargs=",".join(f"{k}={v}" for k, v in (gen or {}).items()) or None,
                                    cache_requests=False, log_samples=True, verbosity="ERROR")
            sync(device)

        arms = alternate({"harness": harness, "bare_lm_eval": bare}, repeats)
        out[task] = {"limit": limit, "harness": arms["harness"].summary(), "bare_lm_eval": arms["bare_lm_eval"].summary(),
                     "harness_over_bare": ratio(arms["harness"], arms["bare_lm_eval"])}
    return out


def run_shape(shape: str, args: argparse.Namespace, peak: dict | None, work: Path) -> dict:
    import torch

    device = args.device
    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    texts = story_texts(args.stimuli)
    tokenizer = word_tokenizer(texts + story_texts(args.limit, seed=1), random_vocab(shape))
    load_w, _c, model = timed(lambda: random_llama(shape, device, dtype, tokenizer))
    model_dir = work / f"model_{shape}"
    save_w, _c, _ = timed(lambda: (model.save_pretrained(model_dir), tokenizer.save_pretrained(model_dir)))
    result: dict[str, Any] = {"params": sum(p.numel() for p in model.parameters()), "dtype": str(dtype),
                              "build_s": load_w, "save_s": save_w}
    steps = [("fisher", lambda: fisher(model, device, args.fisher_samples, args.fisher_len, peak)),
             ("switch", lambda: [switch(model, device, m, args.repeats, model_dir) for m in (1e-5, 1e-3)]),
             ("restore_check", lambda: restore_check(model, device, args.repeats, peak)),
             ("extraction", lambda: extraction(model, tokenizer, texts, args.batch, args.repeats)),
             ("cell", lambda: cells(model, tokenizer, model_dir, device, args.limit, args.repeats, work))]
    for name, step in steps:
        if name in args.skip:
            continue
        t0 = time.perf_counter()
        result[name] = step()
        print(f"  [{shape}] {name} done in {time.perf_counter() - t0:.1f} s", flush=True)
    del model
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
    return result


def random_vocab(shape: str) -> int:
    from _synthetic import SHAPES

    return SHAPES[shape]["vocab_size"]


def table(report: dict) -> str:
    """The short table: one line per figure, the ratio first, absolute times beside it."""
    lines = [f"| shape | figure | ratio | absolute |", "|---|---|---|---|"]
    for shape, r in report["shapes"].items():
        if "fisher" in r:
            f = r["fisher"]
            peak = f" ({f['share_of_bf16_peak']:.1%} of bf16 peak)" if "share_of_bf16_peak" in f else ""
            lines.append(f"| {shape} | Fisher maps | {f['achieved_tflops']:.3g} TFLOP/s{peak} | "
                         f"{f['tokens_per_s']:.0f} tok/s, {f['tokens']} tokens in {f['wall_s']:.2f} s |")
        for s in r.get("switch", []):
            lines.append(f"| {shape} | switch m={s['m']:g} ({s['entries']} entries): reload / in place | "
                         f"{s['reload_over_in_place']:.1f}x | in place {s['in_place']['median_wall']:.3f} s "
                         f"(cold {s['cold_in_place_s']:.3f} s), reload {s['reload']['median_wall']:.2f} s |")
        if "restore_check" in r:
            c = r["restore_check"]
            share = (f", {c['digest_share_of_bandwidth']:.1%} of HBM bandwidth"
                     if "digest_share_of_bandwidth" in c else "")
            lines.append(f"| {shape} | restore check: digest / torch.equal | {c['digest_over_equal']:.2f}x | "
                         f"digest {c['digest']['median_wall']:.3f} s = {c['digest_gbps']:.1f} GB/s{share}; "
                         f"equal {c['equal']['median_wall']:.3f} s |")
        if "extraction" in r:
            e = r["extraction"]
            batched = next(k for k in e if k.startswith("batch_"))
            lines.append(f"| {shape} | localizer extraction: one at a time / {batched} | {e['one_over_batched']:.1f}x | "
                         f"{e['stimuli']} stimuli: {e[batched]['median_wall']:.3f} s vs "
                         f"{e['one_at_a_time']['median_wall']:.3f} s |")
        for task, c in r.get("cell", {}).items():
            lines.append(f"| {shape} | `none` cell {task} (limit {c['limit']}): harness / bare lm-eval | "
                         f"{c['harness_over_bare']:.2f}x | {c['harness']['median_wall']:.2f} s vs "
                         f"{c['bare_lm_eval']['median_wall']:.2f} s |")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda", help="cuda | cpu")
    ap.add_argument("--toy", action="store_true", help="the toy shape only, small counts (CPU tests)")
    ap.add_argument("--shapes", default="1b,8b")
    ap.add_argument("--out", default="gpu_check_out", help="folder for gpu_check.json and gpu_check.md")
    ap.add_argument("--repeats", type=int, default=3, help="alternated repeats per comparison (>= 3 for a median)")
    ap.add_argument("--fisher_samples", type=int, default=32)
    ap.add_argument("--fisher_len", type=int, default=256)
    ap.add_argument("--stimuli", type=int, default=64)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--limit", type=int, default=16, help="documents per harness / lm-eval cell")
    ap.add_argument("--skip", default="", help="comma-separated steps to leave out")
    args = ap.parse_args(argv)
    if args.toy:
        args.shapes, args.fisher_samples, args.fisher_len, args.stimuli, args.limit = "toy", 4, 32, 8, 2
    args.skip = {s for s in args.skip.split(",") if s}
    return args


def main(argv: list[str] | None = None) -> int:
    import torch

    import tom_harness

    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    from tom_harness.lmeval.progress import setup_terminal

    setup_terminal(verbose=False)  # one line per step, not lm-eval's per-request bars
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("gpu_check: --device cuda but torch sees no GPU; use --device cpu --toy", file=sys.stderr)
        return 2
    name = torch.cuda.get_device_name() if args.device.startswith("cuda") else platform.processor() or "cpu"
    peak = next((v for k, v in PEAKS.items() if k in name), None)
    before = load_average()
    report: dict[str, Any] = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "device": name,
                              "torch": torch.__version__, "tom_harness": tom_harness.__version__,
                              "peaks": peak, "load_before": before, "repeats": args.repeats, "shapes": {}}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gpu_check_") as tmp:
        for shape in args.shapes.split(","):
            print(f"shape {shape}:", flush=True)
            report["shapes"][shape] = run_shape(shape, args, peak, Path(tmp))
            (out / "gpu_check.json").write_text(json.dumps(report, indent=2))  # partial results survive a kill
    report["load_after"] = load_average()
    report["load"] = load_verdict(before, report["load_after"])
    (out / "gpu_check.json").write_text(json.dumps(report, indent=2))
    text = (f"gpu_check {report['date']} on {name} (torch {report['torch']}), medians of {args.repeats} "
            f"alternated repeats; load: {report['load']}\n\n{table(report)}\n")
    (out / "gpu_check.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
