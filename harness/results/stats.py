"""Paired statistics on per-item scores: is a delta against the baseline more than noise?

Every test here pairs the two rows' scores on the same items and uses scipy / statsmodels:

* 0/1 metrics averaged per item (``acc``): exact McNemar test (statsmodels) on the discordant
  pairs; the delta's 95 % CI is the matching exact conditional interval (Clopper-Pearson on the
  share of discordant pairs the row wins, scaled to a difference in accuracy), so p < 0.05 and an
  interval that excludes 0 agree (up to the test's and the interval's own discreteness).
* any other metric lm-eval aggregates from per-item values (continuous means, perplexity,
  bits per byte): a paired permutation test (scipy, labels swapped within each item) and the same
  paired bootstrap, both recomputing the *corpus* metric (e.g. ``exp(-Σ ll / Σ words)``) from
  the resampled documents, so the interval is the interval of the number the table shows.
* seed groups: items are pooled over the seed files; the statistic is the group's own (mean over
  seed files of each file's metric), so the bootstrap and permutation tests match the table.

All resampling is seeded from the row's identity (:func:`seed_for`): rebuilding a table gives the
same p-values and intervals. docs/statistics.md describes the choices.
"""
from __future__ import annotations

import math
import warnings
import zlib
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

N_BOOTSTRAP = 2000
N_PERMUTATIONS = 9999
ALPHA = 0.05
ADJUST = "holm"

#: per-stratum corpus metric from (Σ values, Σ weights, count) -> value, by lm-eval aggregation name
CORPUS: dict[str, Callable] = {
    "mean": lambda sx, sw, n: sx / n,
    "weighted_perplexity": lambda sx, sw, n: np.exp(-sx / sw),
    "perplexity": lambda sx, sw, n: np.exp(-sx / n),
    "bits_per_byte": lambda sx, sw, n: -sx / sw / math.log(2),
}


@dataclass(frozen=True)
class Paired:
    """A paired comparison of row B against row A (``delta = metric(B) - metric(A)``)."""

    delta: float
    p_value: float
    ci_low: float
    ci_high: float
    test: str
    n: int


def seed_for(*key: object) -> int:
    """A stable 32-bit seed from a row's identity (same row -> same resamples, any order)."""
    return zlib.crc32("\x1f".join(map(str, key)).encode("utf-8"))


def is_binary(*arrays: np.ndarray) -> bool:
    return all(np.isin(a, (0.0, 1.0)).all() for a in arrays)


def testable(aggregation: str | None) -> bool:
    return aggregation in CORPUS


def _stratified(aggregation: str, codes: Sequence[float]) -> Callable:
    """``delta(a, b, w, s, axis)``: mean over strata of the per-stratum corpus metric of b minus a."""
    fn = CORPUS[aggregation]

    def delta(a, b, w, s, axis=-1):
        per = []
        for c in codes:
            m = s == c
            n = m.sum(axis=axis)
            sw = (w * m).sum(axis=axis)
            with np.errstate(divide="ignore", invalid="ignore"):
                per.append(fn((b * m).sum(axis=axis), sw, n) - fn((a * m).sum(axis=axis), sw, n))
        return np.nanmean(np.stack(per), axis=0) if len(per) > 1 else per[0]

    return delta


def mcnemar_exact(a: np.ndarray, b: np.ndarray) -> float:
    """Exact (binomial) McNemar p-value of paired 0/1 outcomes (statsmodels)."""
    from statsmodels.stats.contingency_tables import mcnemar

    a, b = np.asarray(a) > 0.5, np.asarray(b) > 0.5
    table = [[int(np.sum(a & b)), int(np.sum(a & ~b))], [int(np.sum(~a & b)), int(np.sum(~a & ~b))]]
    return float(mcnemar(table, exact=True).pvalue)


def mcnemar_ci(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """95 % exact conditional CI of ``mean(b) - mean(a)`` for paired 0/1 outcomes: given the
    ``d`` discordant pairs, ``delta = d / n * (2 * pi - 1)`` where ``pi`` (share won by b) gets a
    Clopper-Pearson interval (statsmodels). No discordant pair: the point [0, 0]."""
    from statsmodels.stats.proportion import proportion_confint

    a, b = np.asarray(a) > 0.5, np.asarray(b) > 0.5
    wins, losses, n = int(np.sum(~a & b)), int(np.sum(a & ~b)), len(a)
    d = wins + losses
    if d == 0:
        return 0.0, 0.0
    lo, hi = proportion_confint(wins, d, alpha=ALPHA, method="beta")
    return d / n * (2 * float(lo) - 1), d / n * (2 * float(hi) - 1)


def bootstrap_ci(delta: Callable, data: tuple[np.ndarray, ...], seed: int, point: float) -> tuple[float, float]:
    """95 % paired bootstrap (BCa; percentile if BCa is undefined) of ``delta`` over items."""
    from scipy.stats import bootstrap

    for method in ("BCa", "percentile"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = bootstrap(data, delta, paired=True, vectorized=True, n_resamples=N_BOOTSTRAP,
                            confidence_level=1 - ALPHA, method=method, batch=200, rng=np.random.default_rng(seed))
        lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
        if math.isfinite(lo) and math.isfinite(hi):
            return lo, hi
    return point, point  # every resample gives the same delta (e.g. identical rows)


def permutation_p(delta: Callable, a: np.ndarray, b: np.ndarray, seed: int) -> float:
    """Two-sided paired permutation test (the two rows' values swapped within items)."""
    from scipy.stats import permutation_test

    res = permutation_test((a, b), delta, permutation_type="samples", vectorized=True,
                           n_resamples=N_PERMUTATIONS, alternative="two-sided", rng=np.random.default_rng(seed))
    return float(res.pvalue)


def paired_test(a: Sequence[float], b: Sequence[float], aggregation: str, *, weights: Sequence[float] | None = None,
                strata: Sequence[object] | None = None, seed: int = 0) -> Paired | None:
    """Test ``metric(b) - metric(a)`` on paired items; ``weights`` are per-item word/byte counts
    for perplexity-type metrics, ``strata`` the seed file of each item (group statistic)."""
    if not testable(aggregation) or len(a) == 0:
        return None
    a_, b_ = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    w = np.ones_like(a_) if weights is None else np.asarray(weights, dtype=float)
    labels = list(strata) if strata is not None else [0] * len(a_)
    names = list(dict.fromkeys(labels))
    s = np.asarray([names.index(x) for x in labels], dtype=float)
    delta = _stratified(aggregation, [float(i) for i in range(len(names))])
    point = float(delta(a_, b_, w, s))
    n = len(a_)
    pooled = " (pooled over %d seed files)" % len(names) if len(names) > 1 else ""
    if n < 2:
        return Paired(point, math.nan, math.nan, math.nan, f"too few items (n={n})", n)
    sizes = set(np.unique(s, return_counts=True)[1].tolist())
    if aggregation == "mean" and is_binary(a_, b_):
        p, test = mcnemar_exact(a_, b_), "mcnemar_exact" + pooled
        if len(sizes) == 1:  # equal seed files: the pooled difference is the table's delta
            lo, hi = mcnemar_ci(a_, b_)
            return Paired(point, p, lo, hi, test, n)
    else:
        p, test = permutation_p(lambda x, y, axis=-1: delta(x, y, w, s, axis), a_, b_, seed), "paired_permutation" + pooled
    lo, hi = bootstrap_ci(delta, (a_, b_, w, s), seed, point)
    return Paired(point, p, lo, hi, test, n)


def adjust(p_values: Sequence[float], method: str = ADJUST) -> list[float]:
    """Multiplicity-adjusted p-values (statsmodels ``multipletests``); NaNs stay NaN."""
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(p_values, dtype=float)
    out = np.full_like(p, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        out[ok] = multipletests(p[ok], alpha=ALPHA, method=method)[1]
    return out.tolist()


def agreement(left: Sequence[str], right: Sequence[str]) -> dict[str, float]:
    """Share of identical labels and Cohen's kappa with its 95 % CI (statsmodels) for two raters."""
    import pandas as pd
    from statsmodels.stats.inter_rater import cohens_kappa

    if not left:
        return {"n": 0, "agreement": math.nan, "kappa": math.nan, "kappa_low": math.nan, "kappa_high": math.nan}
    cats = sorted(set(left) | set(right))
    table = pd.crosstab(pd.Categorical(left, cats), pd.Categorical(right, cats), dropna=False).to_numpy()
    agree = float(np.trace(table) / table.sum())
    kappa = low = high = math.nan
    if len(cats) > 1:
        with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
            warnings.simplefilter("ignore")
            res = cohens_kappa(table)
        kappa = float(res.kappa)  # Wald interval, clipped to kappa's range [-1, 1]
        low, high = max(-1.0, float(res.kappa_low)), min(1.0, float(res.kappa_upp))
    return {"n": int(table.sum()), "agreement": agree, "kappa": kappa, "kappa_low": low, "kappa_high": high}
