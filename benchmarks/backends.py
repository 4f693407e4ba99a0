"""Benchmark: HF vs vLLM on the same generation cell, and the cost of one weight switch on each.

In one process, SmolLM2-135M (offline alias) in float32 on both backends:

1. the same generation cell through the runner (default ``sbs`` on ``tomi_seed12``, limit 64,
   chat template): wall time, CPU time (this process and its children: vLLM's engine and worker
   are child processes) and generated tokens per second;
2. one grad_mask switch (random plan at m=1e-3 over the 210 block matrices): edit, restore and
   the runner's bit-identity check, each through ``ModelHandle.apply_to_model`` (for vLLM inside
   the worker, including the RPC);
3. with ``--ppl_docs N``: the ``wikitext2_ppl`` cell (rolling loglikelihood) on N documents;
4. with ``--prepack``: the generation cell once more on a second vLLM engine that keeps vLLM's
   oneDNN prepacked weights (``cpu_prepack=true``), the speed cost of the dense weights edits need.

Ratios are printed from this one run (the machine is shared; absolute numbers drift).

    HF_HUB_OFFLINE=1 TOM_HARNESS_DATA=../shared/data python benchmarks/backends.py
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")


def cpu_seconds() -> float:
    """CPU time of this process and all its live children (vLLM's engine core and worker)."""
    import psutil

    me = psutil.Process()
    total = sum(me.cpu_times()[:2])
    for child in me.children(recursive=True):
        try:
            total += sum(child.cpu_times()[:2])
        except psutil.Error:
            pass
    return total


def timed(fn):
    w, c = time.perf_counter(), cpu_seconds()
    out = fn()
    return time.perf_counter() - w, cpu_seconds() - c, out


def run_cell(host, handle, backend: str, task: str, iv: str, limit: int, chat: bool, out: Path) -> dict:
    from tom_harness.spec.matrix import MatrixSpec
    from tom_harness.run.runner import MatrixRunner

    spec = MatrixSpec(model=backend, model_args={"pretrained": "smollm2-135m"}, tasks=[task], interventions=[iv],
                      limit=limit, batch_size=8, apply_chat_template=chat)
    wall, cpu, _ = timed(lambda: MatrixRunner(spec, host, out, handle=handle, progress=False).run())
    cell = json.loads(next((out / "cells").glob(f"*/{task}.json")).read_text())
    tokens = cell["metadata"]["requests"].get("generated_tokens", 0)
    return {"wall": wall, "cpu": cpu, "tokens": tokens, "tok_s": tokens / wall if wall else 0.0}


def switch(handle, plan) -> dict:
    from tom_harness.model.snapshot import snapshot
    from tom_harness.plugins.grad_mask.perturb import apply_plan, restore_saved

    e_w, e_c, res = timed(lambda: handle.apply_to_model(functools.partial(apply_plan, plan=plan, perturb="mean", scale=0.0)))
    saved = res[0]["saved"]
    r_w, r_c, _ = timed(lambda: handle.apply_to_model(functools.partial(restore_saved, saved=saved)))
    c_w, c_c, _ = timed(lambda: handle.apply_to_model(snapshot))
    return {"edit": e_w, "restore": r_w, "check": c_w, "total": e_w + r_w + c_w, "cpu": e_c + r_c + c_c}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", default="tomi_seed12")
    ap.add_argument("--intervention", default="sbs")
    ap.add_argument("--limit", type=int, default=64)
    ap.add_argument("--no_chat", action="store_true", help="without the chat template")
    ap.add_argument("--ppl_docs", type=int, default=0, help="also time wikitext2_ppl on this many documents")
    ap.add_argument("--prepack", action="store_true", help="also a vLLM engine with prepacked (oneDNN) weights")
    args = ap.parse_args()

    from tom_harness.backends.loading import load
    from tom_harness.host.plugin_host import load_host
    from tom_harness.plugins.grad_mask.mask import k_for, random_indices
    from tom_harness.plugins.grad_mask.perturb import PlanEntry
    from tom_harness.plugins.grad_mask.targets import find_targets

    host = load_host()
    smol = {"pretrained": "smollm2-135m", "dtype": "float32"}
    load_s, handles = {}, {}
    for backend, extra, device in (("hf", {"max_length": 2048}, "cpu"), ("vllm", {"max_model_len": 2048}, None)):
        load_s[backend], _c, handles[backend] = timed(lambda: load(host, backend, {**smol, **extra}, device, 8))
    work = Path(tempfile.mkdtemp(prefix="bench_backends_"))
    cells, ppl = {}, {}
    for backend, handle in handles.items():
        cells[backend] = run_cell(host, handle, backend, args.task, args.intervention, args.limit, not args.no_chat,
                                  work / f"gen_{backend}")
    plan = [PlanEntry(t.param, t.layer, t.role, t.shape, random_indices(k_for(1e-3, t.numel), t.numel, 0, t.param))
            for t in find_targets(handles["hf"].model)]
    switches = {backend: switch(handle, plan) for backend, handle in handles.items()}
    if args.ppl_docs:
        for backend, handle in handles.items():
            ppl[backend] = run_cell(host, handle, backend, "wikitext2_ppl", "none", args.ppl_docs, False, work / f"ppl_{backend}")
    if args.prepack:
        handles["vllm"].close()  # one engine at a time (RAM)
        packed = load(host, "vllm", {**smol, "max_model_len": 2048, "cpu_prepack": True}, None, 8)
        cells["vllm_prepacked"] = run_cell(host, packed, "vllm", args.task, args.intervention, args.limit,
                                           not args.no_chat, work / "gen_packed")

    print(f"\nmodel load: hf {load_s['hf']:.1f} s, vllm {load_s['vllm']:.1f} s (engine start incl.)")
    print(f"generation cell {args.intervention} x {args.task}, limit {args.limit}, chat template {not args.no_chat}:")
    for name, c in cells.items():
        print(f"  {name:15s} wall {c['wall']:7.1f} s  CPU {c['cpu']:7.1f} s  {c['tokens']:6d} tokens  {c['tok_s']:6.1f} tok/s")
    print(f"  ratio wall hf / vllm: {cells['hf']['wall'] / cells['vllm']['wall']:.2f}x; "
          f"tok/s vllm / hf: {cells['vllm']['tok_s'] / max(cells['hf']['tok_s'], 1e-9):.2f}x")
    if "vllm_prepacked" in cells:
        print(f"  dense-weight cost: prepacked tok/s / dense tok/s = "
              f"{cells['vllm_prepacked']['tok_s'] / max(cells['vllm']['tok_s'], 1e-9):.2f}x")
    print(f"one weight switch (m=1e-3, {sum(int(e.index.numel()) for e in plan)} entries):")
    for name, s in switches.items():
        print(f"  {name:5s} edit {s['edit']:.3f} s  restore {s['restore']:.3f} s  check {s['check']:.3f} s  "
              f"= {s['total']:.3f} s (CPU {s['cpu']:.3f} s)")
    print(f"  ratio vllm / hf: {switches['vllm']['total'] / switches['hf']['total']:.2f}x")
    if ppl:
        for name, c in ppl.items():
            print(f"wikitext2_ppl, {args.ppl_docs} documents: {name:5s} wall {c['wall']:.1f} s  CPU {c['cpu']:.1f} s")
        print(f"  ratio vllm / hf: {ppl['vllm']['wall'] / ppl['hf']['wall']:.1f}x")


if __name__ == "__main__":
    main()
