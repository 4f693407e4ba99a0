"""Welch's t per unit (positive minus negative) and Benjamini-Hochberg adjusted p-values.

Computed in float64 over the stimulus axis of [stimuli, layers, hidden] activations, vectorised
over units: the same numbers as ``scipy.stats.ttest_ind(pos, neg, equal_var=False)`` unit by unit.
"""
from __future__ import annotations

import numpy as np
import torch
from scipy import stats as sps

STATS = ("abs", "signed")


def welch_t(pos: torch.Tensor, neg: torch.Tensor, stat: str = "abs") -> tuple[torch.Tensor, torch.Tensor]:
    """(t, two-sided p) per unit; ``stat=abs`` tests activation magnitudes, ``signed`` raw values.

    A unit with zero variance in both conditions gets t = NaN (equal means) or +-inf, as scipy.
    """
    if stat not in STATS:
        raise ValueError(f"stat must be one of {STATS}, got {stat!r}")
    x, y = pos.double(), neg.double()
    if stat == "abs":
        x, y = x.abs(), y.abs()
    n1, n2 = x.shape[0], y.shape[0]
    if n1 < 2 or n2 < 2:
        raise ValueError("Welch's t needs at least two stimuli per condition")
    v1, v2 = x.var(0, correction=1) / n1, y.var(0, correction=1) / n2
    se2 = v1 + v2
    t = (x.mean(0) - y.mean(0)) / se2.sqrt()
    df = se2**2 / (v1**2 / (n1 - 1) + v2**2 / (n2 - 1))
    p = 2 * sps.t.sf(np.abs(t.numpy()), df.numpy())
    return t.float(), torch.from_numpy(np.asarray(p, dtype=np.float64))


def benjamini_hochberg(p: torch.Tensor) -> torch.Tensor:
    """BH-adjusted p-values over all finite entries (NaN stays NaN), as the anchor paper saves them."""
    flat = p.double().reshape(-1).numpy().copy()
    ok = np.isfinite(flat)
    out = np.full_like(flat, np.nan)
    if ok.any():
        out[ok] = sps.false_discovery_control(flat[ok], method="bh")
    return torch.from_numpy(out).reshape(p.shape)
