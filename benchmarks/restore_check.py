"""Cost of the runner's bit-identity check on SmolLM2-135M: hashed snapshot vs. a full copy.

The runner verifies after every weights/activations cell that no tensor changed. Two ways:
  * hash:  one pass over the weights computing a 64-bit weighted hash per tensor (what the runner
           does; no second copy of the model);
  * copy:  keep a full clone of every tensor and compare with torch.equal.
Prints time per check and extra memory of each, and their ratio, measured in the same process.

    python benchmarks/restore_check.py [--repeats 3]
"""
from __future__ import annotations

import argparse
import time

import torch

from tom_harness.model.snapshot import diff_snapshots, snapshot
from tom_harness.backends.loading import load_hf
from tom_harness.plugins.builtin import smollm2_resolve


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    handle = load_hf(smollm2_resolve(), "cpu", 1)
    model = handle.model
    tensors = dict(model.named_parameters()) | dict(model.named_buffers())
    n_bytes = sum(t.numel() * t.element_size() for t in tensors.values())
    print(f"model: {len(tensors)} tensors, {n_bytes / 2**20:.0f} MiB")

    base = snapshot(model)
    t0 = time.perf_counter()
    for _ in range(args.repeats):
        ok = diff_snapshots(base, snapshot(model))["ok"]
    hash_s = (time.perf_counter() - t0) / args.repeats
    assert ok

    t0 = time.perf_counter()
    copies = {k: v.detach().clone() for k, v in tensors.items()}
    clone_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(args.repeats):
        ok = all(torch.equal(copies[k], v) for k, v in tensors.items())
    copy_s = (time.perf_counter() - t0) / args.repeats
    assert ok

    print(f"hash check:  {hash_s:.3f} s per check, extra memory ~{len(tensors) * 3 * 8} bytes (per-tensor digests)")
    print(f"copy check:  {copy_s:.3f} s per check (+{clone_s:.3f} s once to clone), extra memory {n_bytes / 2**20:.0f} MiB")
    print(f"ratio hash/copy time per check: {hash_s / copy_s:.2f}x; memory: hash needs none of the {n_bytes / 2**20:.0f} MiB copy")


if __name__ == "__main__":
    main()
