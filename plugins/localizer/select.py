"""Which units to lesion: a global fraction of all (layer, dim) units, ranked on the t-map.

k = floor(pct / 100 x units), as both papers compute it. Units with NaN t (no variance in either
condition) are never ranked, and exactly k units are returned: ties are broken by unit index,
where ToMechanisms' threshold rule could return more (top) or k + 1 (bottom).
"""
from __future__ import annotations

import math

import torch

from tom_harness import UsageError

SELECTIONS = ("top", "bottom", "both", "middle", "random")
RANDOM_POOLS = ("complement", "all")


def unit_count(t: torch.Tensor, pct: float) -> int:
    if not 0 <= pct <= 100:
        raise UsageError(f"localizer: parameter 'pct': expected a percentage in [0, 100], got {pct}")
    return int(math.floor(pct / 100 * t.numel() + 1e-9))


def _ranked(scores: torch.Tensor, valid: torch.Tensor, k: int) -> torch.Tensor:
    """Flat indices of the k highest ``scores`` among ``valid`` units (stable: lower index first)."""
    scores = torch.where(valid, scores.double(), torch.tensor(-math.inf, dtype=torch.float64))
    order = torch.sort(scores, descending=True, stable=True).indices
    return order[: min(k, int(valid.sum()))]


def select_units(
    t: torch.Tensor, pct: float, mode: str = "top", seed: int = 0, random_pool: str = "complement"
) -> torch.Tensor:
    """A bool mask shaped like ``t`` with the selected units set.

    * ``top``: the k largest t; ``bottom``: the k most negative; ``both``: the k largest |t|;
    * ``middle``: the k units whose t is closest to the mean t;
    * ``random``: k units drawn with ``seed`` from the units outside the top-k set
      (``random_pool=complement``, the anchor's control) or from all units with a finite t
      (``random_pool=all``, ToMechanisms' final drivers).
    """
    if mode not in SELECTIONS:
        raise UsageError(f"localizer: parameter 'select': expected one of {'|'.join(SELECTIONS)}, got {mode!r}")
    flat = t.reshape(-1).double()
    valid = ~torch.isnan(flat)
    k = unit_count(t, pct)
    if mode == "top":
        chosen = _ranked(flat, valid, k)
    elif mode == "bottom":
        chosen = _ranked(-flat, valid, k)
    elif mode == "both":
        chosen = _ranked(flat.abs(), valid, k)
    elif mode == "middle":
        centre = flat[valid & torch.isfinite(flat)].mean() if valid.any() else torch.tensor(0.0)
        chosen = _ranked(-(flat - centre).abs(), valid, k)
    else:
        if random_pool not in RANDOM_POOLS:
            raise UsageError(
                f"localizer: parameter 'random_pool': expected one of {'|'.join(RANDOM_POOLS)}, got {random_pool!r}"
            )
        pool = valid.clone()
        if random_pool == "complement":
            pool[_ranked(flat, valid, k)] = False
        candidates = torch.nonzero(pool).reshape(-1)
        if k > candidates.numel():
            raise UsageError(
                f"localizer: pct={pct} asks for {k} random units but only {candidates.numel()} lie "
                f"outside the top set; use a smaller pct or random_pool=all"
            )
        gen = torch.Generator().manual_seed(int(seed))
        chosen = candidates[torch.randperm(candidates.numel(), generator=gen)[:k]]
    mask = torch.zeros(flat.numel(), dtype=torch.bool)
    mask[chosen] = True
    return mask.reshape(t.shape)
