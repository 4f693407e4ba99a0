"""tom_harness.results.stats against scipy / statsmodels / sklearn / lm-eval called directly on crafted vectors."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import bootstrap, permutation_test

from tom_harness.results import stats


def pairs(n11, n10, n01, n00):
    """Baseline / row 0-1 vectors with the given 2x2 counts (row-major: a then b)."""
    a = [1] * n11 + [1] * n10 + [0] * n01 + [0] * n00
    b = [1] * n11 + [0] * n10 + [1] * n01 + [0] * n00
    return np.array(a, float), np.array(b, float)


def test_exact_mcnemar_known_value():
    # 1 vs 6 discordant pairs: p = 2 * P(X <= 1), X ~ Bin(7, 1/2) = 2 * 8 / 128
    a, b = pairs(10, 1, 6, 5)
    assert stats.mcnemar_exact(a, b) == pytest.approx(0.125, abs=1e-12)
    res = stats.paired_test(a, b, "mean", seed=3)
    assert res.test == "mcnemar_exact" and res.p_value == pytest.approx(0.125) and res.n == 22
    assert res.delta == pytest.approx(5 / 22)


def test_mcnemar_interval_is_the_exact_conditional_one():
    from scipy.stats import beta

    a, b = pairs(10, 1, 6, 5)  # 7 discordant pairs, 6 won by b, n = 22
    res = stats.paired_test(a, b, "mean", seed=0)
    lo, hi = beta.ppf(0.025, 6, 2), beta.ppf(0.975, 7, 1)  # Clopper-Pearson for 6 of 7, by hand
    assert (res.ci_low, res.ci_high) == pytest.approx((7 / 22 * (2 * lo - 1), 7 / 22 * (2 * hi - 1)))
    assert res.ci_low < 0 < res.delta < res.ci_high  # agrees with p = 0.125: not significant
    a, b = pairs(3, 0, 8, 11)  # 8 of 8 won: p = 2 / 256, the interval excludes 0
    res = stats.paired_test(a, b, "mean")
    assert res.p_value == pytest.approx(2 / 256) and res.ci_low > 0


def test_bootstrap_ci_equals_scipy_on_the_mean_difference():
    rng = np.random.default_rng(5)
    a = rng.uniform(0, 1, 30)
    b = a + rng.normal(0.1, 0.2, 30)
    res = stats.paired_test(a, b, "mean", seed=7)
    assert res.test == "paired_permutation"
    ref = bootstrap((a, b), lambda x, y, axis=-1: np.mean(y - x, axis=axis), paired=True, vectorized=True,
                    n_resamples=stats.N_BOOTSTRAP, method="BCa", batch=200, rng=np.random.default_rng(7))
    assert (res.ci_low, res.ci_high) == pytest.approx((ref.confidence_interval.low, ref.confidence_interval.high))
    assert res.ci_low < res.delta < res.ci_high
    again = stats.paired_test(a, b, "mean", seed=7)
    assert (again.ci_low, again.ci_high, again.p_value) == (res.ci_low, res.ci_high, res.p_value)  # seeded


def test_identical_rows_give_p_one_and_a_point_interval():
    a, _ = pairs(5, 3, 0, 4)
    res = stats.paired_test(a, a.copy(), "mean", seed=0)
    assert res.p_value == 1.0 and res.ci_low == res.ci_high == res.delta == 0.0


def test_perplexity_delta_is_the_corpus_metric_and_permutation_matches_scipy():
    from lm_eval.api.metrics import bits_per_byte, weighted_perplexity

    rng = np.random.default_rng(0)
    words = rng.integers(50, 400, 20).astype(float)
    ll_a = -words * rng.uniform(2.5, 4.0, 20)
    ll_b = ll_a * rng.uniform(0.95, 1.10, 20)
    res = stats.paired_test(ll_a, ll_b, "weighted_perplexity", weights=words, seed=11)
    want = weighted_perplexity(list(zip(ll_b, words))) - weighted_perplexity(list(zip(ll_a, words)))
    assert res.delta == pytest.approx(want) and res.test == "paired_permutation"
    corpus = lambda x, axis=-1: np.exp(-x.sum(axis=axis) / words.sum())  # noqa: E731
    ref = permutation_test((ll_a, ll_b), lambda x, y, axis=-1: corpus(y, axis) - corpus(x, axis),
                           permutation_type="samples", vectorized=True, n_resamples=stats.N_PERMUTATIONS,
                           rng=np.random.default_rng(11))
    assert res.p_value == pytest.approx(ref.pvalue)
    assert res.ci_low <= res.delta <= res.ci_high
    bpb = stats.paired_test(ll_a, ll_b, "bits_per_byte", weights=words, seed=1)
    assert bpb.delta == pytest.approx(bits_per_byte(list(zip(ll_b, words))) - bits_per_byte(list(zip(ll_a, words))))


def test_seed_group_statistic_is_the_mean_of_per_seed_deltas():
    a1, b1 = pairs(4, 0, 4, 2)   # seed file 1: delta 0.4 on 10 items
    a2, b2 = pairs(2, 2, 0, 16)  # seed file 2: delta -0.1 on 20 items
    res = stats.paired_test(np.r_[a1, a2], np.r_[b1, b2], "mean", strata=["s1"] * 10 + ["s2"] * 20, seed=2)
    assert res.delta == pytest.approx((0.4 - 0.1) / 2)  # not the pooled mean (0.0667)
    assert res.p_value == pytest.approx(stats.mcnemar_exact(np.r_[a1, a2], np.r_[b1, b2]))
    assert res.test == "mcnemar_exact (pooled over 2 seed files)"


def test_small_n_is_reported_not_hidden():
    res = stats.paired_test([1.0], [0.0], "mean")
    assert res.n == 1 and math.isnan(res.p_value) and res.test == "too few items (n=1)"
    assert stats.paired_test([1.0], [0.0], "custom") is None


def test_holm_matches_statsmodels():
    from statsmodels.stats.multitest import multipletests

    p = [0.01, 0.04, 0.03, 0.2]
    assert stats.adjust(p) == pytest.approx(list(multipletests(p, method="holm")[1]))
    assert stats.adjust(p) == pytest.approx([0.04, 0.09, 0.09, 0.2])  # by hand: sorted p * (4, 3, 2, 1), cummax
    out = stats.adjust([0.01, float("nan")])
    assert out[0] == pytest.approx(0.01) and math.isnan(out[1])


def test_kappa_matches_sklearn_and_statsmodels():
    from sklearn.metrics import cohen_kappa_score

    left = list("AABBCCABCA")
    right = list("ABBBCCACCA")
    got = stats.agreement(left, right)
    assert got["agreement"] == pytest.approx(0.8) and got["n"] == 10
    assert got["kappa"] == pytest.approx(cohen_kappa_score(left, right))
    assert -1 <= got["kappa_low"] < got["kappa"] < got["kappa_high"] <= 1
    same = stats.agreement(["x"] * 4, ["x"] * 4)
    assert same["agreement"] == 1.0 and math.isnan(same["kappa"])  # one category: kappa undefined
