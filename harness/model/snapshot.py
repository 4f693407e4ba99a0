"""Bit-identity checks: did an intervention leave the model exactly as it found it?

Each tensor's raw bytes are hashed. On CPU that is XXH3-128 over the tensor's memory (about
memory bandwidth: 0.04-0.06 s for SmolLM2-135M's 538 MB in float32, against 1 s for the former
weighted sum; ``benchmarks/grad_mask_sweep.py``). Any change of any byte anywhere, a swap of two
entries included, changes the digest except with probability 2**-128. On an accelerator, where
copying to the host would dominate, a tensor is hashed in place by a weighted sum of its bit
patterns, ``sum_i bits_i * w_i`` modulo 2**64 with odd weights ``w_i``: any single changed entry
changes it with certainty, several only cancel by accident. Either way one pass over the weights,
no second copy of the model, and the same code inside vLLM's workers (through ``apply_to_model``).
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any

import torch
import xxhash

from tom_harness.api.errors import RestoreError

_INT_OF_SIZE = {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}
_MULT = -7046029254386353131  # 0x9E3779B97F4A7C15 as a signed int64
_CHUNK = 1 << 22


@torch.no_grad()
def tensor_digest(t: torch.Tensor) -> str:
    """Content hash of ``t``'s values as hex (dtype and shape are recorded beside it by the caller).

    A string, not an int: vLLM returns ``apply_model`` results through msgspec, which refuses
    integers beyond 64 bits.
    """
    flat = t.detach().contiguous().reshape(-1)
    if flat.device.type == "cpu":
        return xxhash.xxh3_128_hexdigest(memoryview(flat.view(torch.uint8).numpy()))
    return f"w{_weighted_digest(flat) & (2**64 - 1):016x}"


def _weighted_digest(flat: torch.Tensor) -> int:
    if flat.dtype == torch.bool:
        flat = flat.to(torch.uint8)
    bits = flat.view(_INT_OF_SIZE[flat.element_size()])
    total = torch.zeros((), dtype=torch.int64, device=flat.device)
    for start in range(0, bits.numel(), _CHUNK):
        chunk = bits[start : start + _CHUNK].to(torch.int64)
        idx = torch.arange(start, start + chunk.numel(), dtype=torch.int64, device=flat.device)
        weights = idx * _MULT + (idx << 1) + 1
        weights |= 1
        total += (chunk * weights).sum()
        total += ((chunk ^ (chunk >> 7)) * (weights * 3 + 2)).sum()
    return int(total.item())


def state_digests(model: torch.nn.Module) -> dict[str, tuple[str, str, tuple[int, ...]]]:
    """Per-tensor (hash, dtype, shape) of every parameter and buffer."""
    out = {}
    for name, t in list(model.named_parameters()) + list(model.named_buffers()):
        out[name] = (tensor_digest(t), str(t.dtype), tuple(t.shape))
    return out


def layout_digests(model: torch.nn.Module, shapes: dict[str, tuple[int, ...]]) -> dict[str, str]:
    """Digest of each HF-layout weight named in ``shapes`` as this model holds it (its block of a
    fused vLLM matrix included), so weights can be compared across HF and vLLM layouts."""
    from tom_harness.model.surgery import locate_weight

    params = dict(model.named_parameters())
    out = {}
    for name, shape in shapes.items():
        try:
            where, offset = locate_weight(params, name, shapes)
        except KeyError:
            continue
        flat = params[where].detach().reshape(-1)
        out[name] = tensor_digest(flat[offset : offset + math.prod(shape)])
    return out


def hook_snapshot(model: torch.nn.Module) -> dict[str, tuple[int, ...]]:
    """Ids of the hooks registered on each module (forward, pre-forward, backward)."""
    snap = {}
    for name, mod in model.named_modules():
        ids = []
        for attr in (
            "_forward_hooks", "_forward_pre_hooks", "_backward_hooks",
            "_backward_pre_hooks", "_forward_hooks_with_kwargs",
        ):
            ids.extend(getattr(mod, attr, {}).keys())
        if ids:
            snap[name] = tuple(sorted(ids))
    return snap


@dataclass
class ModelSnapshot:
    digests: dict[str, tuple[str, str, tuple[int, ...]]]
    hooks: dict[str, tuple[int, ...]]


def snapshot(model: torch.nn.Module) -> ModelSnapshot:
    return ModelSnapshot(state_digests(model), hook_snapshot(model))


def diff_snapshots(before: ModelSnapshot, after: ModelSnapshot) -> dict[str, Any]:
    """What differs in ``after`` from ``before``: changed tensors and leftover (or missing) hooks."""
    changed = sorted(
        n for n in set(before.digests) | set(after.digests) if before.digests.get(n) != after.digests.get(n)
    )
    hooks = sorted(n for n in set(before.hooks) | set(after.hooks) if before.hooks.get(n) != after.hooks.get(n))
    return {"ok": not changed and not hooks, "changed_tensors": changed, "hook_changes": hooks,
            "tensors_checked": len(after.digests)}


def raise_if_changed(report: dict[str, Any], label: str) -> None:
    if report["ok"]:
        return
    parts = []
    if report["changed_tensors"]:
        shown = ", ".join(report["changed_tensors"][:5])
        more = len(report["changed_tensors"]) - 5
        parts.append(f"{len(report['changed_tensors'])} tensor(s) differ ({shown}{', ...' if more > 0 else ''})")
    if report["hook_changes"]:
        parts.append("hooks left on " + ", ".join(report["hook_changes"][:5]))
    raise RestoreError(f"intervention {label} did not restore the model: " + "; ".join(parts))


def model_fingerprint(model: torch.nn.Module) -> str:
    """sha256 over the config and every tensor's digest: equal weights, equal fingerprint."""
    config = getattr(model, "config", None)
    cfg = config.to_json_string(use_diff=False) if hasattr(config, "to_json_string") else ""
    digests = state_digests(model)
    blob = json.dumps([type(model).__name__, cfg, sorted(digests.items())], default=str)
    return hashlib.sha256(blob.encode()).hexdigest()
