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

Every comparison alternates the backends (hf, vllm, hf, vllm, ...) ``--repeats`` times (default 3)
in this one process and prints medians with their spread and the load average before and after:
a figure taken on a loaded machine measures the load, not the backends (``--strict_load`` refuses
to start when the 1-minute load exceeds the cores).

    HF_HUB_OFFLINE=1 TOM_HARNESS_DATA=../shared/data python benchmarks/backends.py
"""
from __future__ import annotations

import argparse
import functools
import itertools
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _measure import alternate, load_average, load_verdict, ratio, spread, timed  # noqa: E402

_fresh = itertools.count()


def run_cell(host, handle, backend: str, task: str, iv: str, limit: int, chat: bool, work: Path) -> int:
    """One cell through the runner into a fresh output folder (no resume, no cached generations);
    returns the generated tokens."""
    from tom_harness.run.runner import MatrixRunner
    from tom_harness.spec.matrix import MatrixSpec

    out = work / f"{backend}_{task}_{next(_fresh)}"
    spec = MatrixSpec(model=backend, model_args={"pretrained": "smollm2-135m"}, tasks=[task], interventions=[iv],
                      limit=limit, batch_size=8, apply_chat_template=chat)
    MatrixRunner(spec, host, out, handle=handle, progress=False).run()
    cell = json.loads(next((out / "cells").glob(f"*/{task}.json")).read_text())
    return int(cell["metadata"]["requests"].get("generated_tokens", 0))


def switch(handle, plan) -> bool:
    """Edit, restore, check: one weight switch through ``apply_to_model`` (vLLM: inside the worker)."""
    from tom_harness.model.snapshot import snapshot
    from tom_harness.plugins.grad_mask.perturb import apply_plan, restore_saved

    before = handle.apply_to_model(snapshot)[0]
    res = handle.apply_to_model(functools.partial(apply_plan, plan=plan, perturb="mean", scale=0.0))
    handle.apply_to_model(functools.partial(restore_saved, saved=res[0]["saved"]))
    return handle.apply_to_model(snapshot)[0] == before


def tok_s(arm) -> float:
    """Median generated tokens per second over the repeats."""
    return statistics.median(tokens / wall for tokens, wall in zip(arm.results, arm.wall))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", default="tomi_seed12")
    ap.add_argument("--intervention", default="sbs")
    ap.add_argument("--limit", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3, help="alternated repeats of every comparison (>= 3)")
    ap.add_argument("--no_chat", action="store_true", help="without the chat template")
    ap.add_argument("--ppl_docs", type=int, default=0, help="also time wikitext2_ppl on this many documents")
    ap.add_argument("--prepack", action="store_true", help="also a vLLM engine with prepacked (oneDNN) weights")
    ap.add_argument("--strict_load", action="store_true", help="refuse to start when the load exceeds the cores")
    args = ap.parse_args()
    before = load_average()
    if args.strict_load and before["load1"] > before["cores"]:
        print(f"backends.py: load {before['load1']} > {before['cores']} cores; measure on a quiet machine", file=sys.stderr)
        raise SystemExit(2)

    from tom_harness.backends.loading import load
    from tom_harness.host.plugin_host import load_host
    from tom_harness.lmeval.progress import setup_terminal
    from tom_harness.plugins.grad_mask.mask import k_for, random_indices
    from tom_harness.plugins.grad_mask.perturb import PlanEntry
    from tom_harness.plugins.grad_mask.targets import find_targets

    setup_terminal(verbose=False)  # the figures, not lm-eval's per-request bars
    host = load_host()
    smol = {"pretrained": "smollm2-135m", "dtype": "float32"}
    load_s, handles = {}, {}
    for backend, extra, device in (("hf", {"max_length": 2048}, "cpu"), ("vllm", {"max_model_len": 2048}, None)):
        load_s[backend], _c, handles[backend] = timed(lambda: load(host, backend, {**smol, **extra}, device, 8))
    if args.prepack:
        load_s["vllm_prepacked"], _c, handles["vllm_prepacked"] = timed(
            lambda: load(host, "vllm", {**smol, "max_model_len": 2048, "cpu_prepack": True}, None, 8))
    work = Path(tempfile.mkdtemp(prefix="bench_backends_"))
    chat = not args.no_chat
    cells = alternate({name: functools.partial(run_cell, host, h, "vllm" if name.startswith("vllm") else "hf",
                                               args.task, args.intervention, args.limit, chat, work)
                       for name, h in handles.items()}, args.repeats)
    plan = [PlanEntry(t.param, t.layer, t.role, t.shape, random_indices(k_for(1e-3, t.numel), t.numel, 0, t.param))
            for t in find_targets(handles["hf"].model)]
    switches = alternate({b: functools.partial(switch, handles[b], plan) for b in ("hf", "vllm")}, args.repeats)
    assert all(all(a.results) for a in switches.values()), "a switch did not restore bit-identically"
    ppl = {}
    if args.ppl_docs:
        ppl = alternate({b: functools.partial(run_cell, host, handles[b], b, "wikitext2_ppl", "none", args.ppl_docs,
                                              False, work) for b in ("hf", "vllm")}, args.repeats)
    after = load_average()

    print(f"\nload before {before}, after {after}: {load_verdict(before, after)}")
    print("model load: " + ", ".join(f"{k} {v:.1f} s" for k, v in load_s.items()) + " (vLLM: engine start incl.)")
    print(f"generation cell {args.intervention} x {args.task}, limit {args.limit}, chat template {chat}; "
          f"medians of {args.repeats} alternated repeats:")
    for name, arm in cells.items():
        print(f"  {name:15s} {spread(arm)}  {arm.results[0]} tokens  {tok_s(arm):6.1f} tok/s")
    print(f"  vllm / hf tokens/s: {tok_s(cells['vllm']) / max(tok_s(cells['hf']), 1e-9):.2f}x "
          f"(below 1: HF is faster here)")
    if "vllm_prepacked" in cells:
        print(f"  prepacked / dense vLLM tokens/s: {tok_s(cells['vllm_prepacked']) / max(tok_s(cells['vllm']), 1e-9):.2f}x")
    print(f"one weight switch (m=1e-3, {sum(int(e.index.numel()) for e in plan)} entries: edit + restore + check):")
    for name, arm in switches.items():
        print(f"  {name:5s} {spread(arm)}")
    print(f"  vllm / hf time: {ratio(switches['vllm'], switches['hf']):.2f}x")
    for name, arm in ppl.items():
        print(f"wikitext2_ppl, {args.ppl_docs} documents: {name:5s} {spread(arm)}")
    if ppl:
        print(f"  vllm / hf time: {ratio(ppl['vllm'], ppl['hf']):.2f}x")


if __name__ == "__main__":
    main()
