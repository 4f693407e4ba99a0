"""Write the perturbation in place and put the exact original values back.

Only the selected entries are saved (a few hundred values, not a model copy). The functions here
run inside ``ModelHandle.apply_to_model``: for ``hf`` on the model object, for vLLM inside the
engine's worker, so they take and return only plain, picklable data.

Perturbation of a selected entry j of matrix W (N entries, selected set M), as in the paper:

    mu   = sum(W * not M) / N          (selected entries count as 0 but stay in the denominator;
                                        summed in float64, rounded to float32 once)
    W'_j = mu + scale * (W_j - mu)      perturb=mean (paper; scale=0 writes mu)
    W'_j = scale * W_j                  perturb=zero (mu = 0; scale=0 writes 0)

Each matrix's float64 sum (for mu) and float32 absolute sum (magnitude statistics) are O(N) and,
with torch's CPU reductions, some 40x slower than reading the bytes. Between the points of a sweep
the matrix is restored bit-exactly, so both sums are memoised by the matrix's content (an XXH3-128
hash of its bytes, read at memory speed): the first switch pays them, later switches do not, and a
matrix whose bytes differ (a stacked edit, an adapter merge) simply misses. Same values either way.

vLLM fuses q/k/v into ``qkv_proj`` and gate/up into ``gate_up_proj`` (rows stacked in that order).
A plan made on the HF layout is mapped onto a fused weight by ``surgery.locate_weight`` (row
offsets from the HF shapes); this needs the whole fused matrix in one worker (tensor parallel 1).
"""
from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import torch
import xxhash
from torch import nn

from tom_harness import locate_weight

PERTURBS = ("mean", "zero")


@dataclass
class PlanEntry:
    """The selected flat indices of one HF-layout weight matrix."""

    param: str
    layer: int
    role: str
    shape: tuple[int, ...]
    index: torch.Tensor

    @property
    def numel(self) -> int:
        return math.prod(self.shape)


def _block(flat: torch.Tensor, offset: int, numel: int) -> torch.Tensor:
    return flat[offset : offset + numel]


_SUMS: "OrderedDict[tuple, tuple[torch.Tensor, float]]" = OrderedDict()
_SUMS_MAX = 4096  # matrices remembered per process (a 70B model has ~560 block matrices)


@torch.no_grad()
def matrix_sums(block: torch.Tensor) -> tuple[torch.Tensor, float]:
    """(float64 sum, float32 sum of |w|) of one flattened matrix, memoised by content on CPU.

    float64 accumulation: the float32 sum's rounding depends on alignment and thread count, so HF
    and vLLM's fused slice (in a worker with other threads) would differ in the last bit."""
    if block.device.type != "cpu":  # GPU reductions run at memory speed already
        return block.sum(dtype=torch.float64), float(block.abs().sum(dtype=torch.float32))
    key = (str(block.dtype), block.numel(), xxhash.xxh3_128_hexdigest(memoryview(block.view(torch.uint8).numpy())))
    hit = _SUMS.get(key)
    if hit is None:
        hit = _SUMS[key] = (block.sum(dtype=torch.float64), float(block.abs().sum(dtype=torch.float32)))
        if len(_SUMS) > _SUMS_MAX:
            _SUMS.popitem(last=False)
    else:
        _SUMS.move_to_end(key)
    return hit


def clear_sums_memo() -> None:
    """Forget the memoised sums (benchmarks time the cold path with it)."""
    _SUMS.clear()


@torch.no_grad()
def new_values(block: torch.Tensor, index: torch.Tensor, perturb: str, scale: float,
               total: torch.Tensor | None = None) -> torch.Tensor:
    """The values written at ``index`` of one matrix (flattened ``block``); ``total`` is the
    block's float64 sum when the caller has it (``matrix_sums``)."""
    old = block[index].float()
    if perturb == "zero":
        mu = torch.zeros((), dtype=torch.float32, device=block.device)
    elif perturb == "mean":
        total = block.sum(dtype=torch.float64) if total is None else total
        mu = ((total - old.double().sum()) / block.numel()).float()
    else:
        raise ValueError(f"perturb must be one of {PERTURBS}, got {perturb!r}")
    return (mu + scale * (old - mu)).to(block.dtype)


@torch.no_grad()
def apply_plan(model: nn.Module, plan: list[PlanEntry], perturb: str, scale: float) -> dict[str, Any]:
    """Perturb every planned entry; return what ``restore`` needs plus magnitude statistics."""
    params = dict(model.named_parameters())
    shapes = {e.param: e.shape for e in plan}
    saved: list[tuple[str, int, torch.Tensor, torch.Tensor]] = []
    magnitude: dict[str, dict[str, float]] = {}
    try:
        for e in plan:
            if e.index.numel() == 0:
                continue
            name, offset = locate_weight(params, e.param, shapes)
            w = params[name].data
            if not w.is_contiguous():
                raise ValueError(f"{name} is not contiguous; cannot edit it in place")
            block = _block(w.view(-1), offset, e.numel)
            idx = e.index.to(w.device)
            original = block[idx].clone()
            stat = magnitude.setdefault(e.role, {"selected_abs_sum": 0.0, "selected": 0, "all_abs_sum": 0.0, "all": 0})
            stat["selected_abs_sum"] += float(original.float().abs().sum())
            stat["selected"] += int(idx.numel())
            total, abs_sum = matrix_sums(block)
            stat["all_abs_sum"] += abs_sum
            stat["all"] += e.numel
            values = new_values(block, idx, perturb, scale, total)
            saved.append((name, offset, e.index.cpu(), original.cpu()))
            block[idx] = values
    except BaseException:
        restore_saved(model, saved)
        raise
    return {"saved": saved, "magnitude": magnitude}


@torch.no_grad()
def restore_saved(model: nn.Module, saved: list[tuple[str, int, torch.Tensor, torch.Tensor]]) -> int:
    """Write the saved original values back (in reverse order); returns entries restored."""
    params = dict(model.named_parameters())
    n = 0
    for name, offset, index, original in reversed(saved):
        w = params[name].data
        flat = w.view(-1)
        flat[offset + index.to(w.device)] = original.to(w.device)
        n += int(index.numel())
    return n
