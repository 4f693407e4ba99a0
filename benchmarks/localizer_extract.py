"""Localizer extraction speed on SmolLM2-135M: batched vs one stimulus per forward pass.

Both papers' code runs one stimulus at a time; this measures what batching with padding masks
buys, checks the two give the same activations, and times localizing end to end (stimuli ->
activations -> Welch t-map -> selection) cold and from the artifact cache.

    HF_HUB_OFFLINE=1 TOM_HARNESS_DATA=../shared/data python benchmarks/localizer_extract.py
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import functools  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import alternate, load_average, load_verdict  # noqa: E402

from tom_harness.model.activations import extract  # noqa: E402
from tom_harness.cache.artifacts import ArtifactCache, clear_memory  # noqa: E402
from tom_harness.api.context import RunContext  # noqa: E402
from tom_harness.backends.loading import load_hf  # noqa: E402
from tom_harness.plugins.builtin import smollm2_resolve  # noqa: E402
from tom_harness.plugins.localizer import LocalizerIntervention  # noqa: E402
from tom_harness.data.stimuli import load_stimuli  # noqa: E402


print = functools.partial(print, flush=True)  # noqa: A001 - progress shows up when piped


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--networks", default="tom,md", help="comma-separated localizers to time (lang: 480 stimuli)")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=3, help="alternated runs per arm (medians are printed)")
    ap.add_argument("--pooling", default="mean")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    before = load_average()
    t0 = time.perf_counter()
    handle = load_hf(smollm2_resolve(), "cpu", 8)
    print(f"model load: {time.perf_counter() - t0:.1f} s; torch threads {torch.get_num_threads()}; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    model, tok = handle.model, handle.tokenizer

    print(f"{'network':8} {'stimuli':>7} {'tokens':>7} {'batched s (cpu)':>16} {'single s (cpu)':>16} "
          f"{'speed-up wall/cpu':>17} {'max |diff|':>10} {'max |act|':>9}")
    for network in args.networks.split(","):
        stimuli = load_stimuli(network)
        texts = stimuli.texts
        arms = alternate({"batched": lambda: extract(model, tok, texts, args.pooling, args.batch_size),
                          "single": lambda: extract(model, tok, texts, args.pooling, 1)}, args.repeats)
        tb = (arms["batched"].summary()["median_wall"], arms["batched"].summary()["median_cpu"])
        ts = (arms["single"].summary()["median_wall"], arms["single"].summary()["median_cpu"])
        batched, single = arms["batched"].results[-1], arms["single"].results[-1]
        diff = (batched.pooled - single.pooled).abs().max().item()
        scale = single.pooled.abs().max().item()
        print(f"{network:8} {len(texts):7d} {sum(batched.n_tokens):7d} {tb[0]:8.2f} ({tb[1]:5.1f}) "
              f"{ts[0]:8.2f} ({ts[1]:5.1f}) {ts[0] / tb[0]:8.2f}x/{ts[1] / tb[1]:.2f}x {diff:10.2e} {scale:9.1f}")

    with tempfile.TemporaryDirectory() as tmpdir:
        ctx = RunContext(handle=handle, cache=ArtifactCache(tmpdir), caller=None, show_progress=False)
        fp_start = time.perf_counter()
        _ = handle.fingerprint
        print(f"model fingerprint (once per process): {time.perf_counter() - fp_start:.2f} s")
        for network in args.networks.split(","):
            clear_memory()
            row = []
            for _ in ("cold", "disk", "memory"):
                iv = LocalizerIntervention(network=network, pct=1.0, select="top", batch_size=args.batch_size)
                start = time.perf_counter()
                iv.prepare(ctx)
                row.append((iv.metadata["tmap_cache"], time.perf_counter() - start))
                if row[-1][0] == "computed":
                    clear_memory()  # next: as a second run would, from disk
            print(f"localize {network} end to end: " + ", ".join(f"{src} {s:.2f} s" for src, s in row)
                  + f"; units {iv.metadata['units_selected']} of {iv.metadata['units_total']}")
    print(f"load: {load_verdict(before, load_average())} (medians of {args.repeats} alternated runs)")


if __name__ == "__main__":
    main()
