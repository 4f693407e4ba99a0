"""Answer *distributions* per document: shift between two sides, transfer from a teacher.

A sampled task (``--repeats N``) whose 0/1 metrics are named ``share_<category>`` (strategic
games: ``share_c``, ``share_d``, ``share_other``) gets per-document counts in its items file
(``counts``, :func:`tom_harness.results.items.repeat_counts`). From those:

* :func:`shift_rows`: between two sides, per document the difference in the headline share
  (right - left) with a seeded percentile-bootstrap 95 % CI (each side's answers resampled
  independently) and a test of equal distributions over all categories: Fisher's exact test
  when the table is 2 x 2, else Pearson's chi-square (scipy), categories nobody chose dropped.
* :func:`transfer_rows`: given base, tuned and teacher, Lore et al.'s transfer per document,
  ``(|p_base - p_teacher| - |p_tuned - p_teacher|) / |p_base - p_teacher|``, the share of the
  base model's distance to the teacher that tuning removed, with a bootstrap CI (answers
  resampled), and its mean over documents with a CI from resampling the documents. A document where base already equals teacher has no transfer (flagged, left out of
  the mean); ``base_teacher_p`` says how distinguishable base and teacher were there. The
  signed variant ``(p_base - p_tuned) / (p_base - p_teacher)`` (how far tuning moved base
  toward the teacher; over 100 % is overshoot) is reported beside it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tom_harness.results.items import Items

PREFIX = "share_"
B_ITERS = 2000
SEED = 0


@dataclass
class Dist:
    """Counts per category of one document on one side (``n`` answers)."""

    key: tuple[str, str]          # (subtask, document key)
    counts: dict[str, int]

    @property
    def n(self) -> int:
        return sum(self.counts.values())

    def share(self, category: str) -> float:
        return self.counts.get(category, 0) / self.n if self.n else float("nan")


def categories(items: Items) -> list[str]:
    """The task's ``share_<category>`` metrics, in the task's order."""
    seen: dict[str, None] = {}
    for specs in items.metrics.values():
        for m in specs:
            if m.startswith(PREFIX) and not m.endswith("_majority"):
                seen.setdefault(m)
    return list(seen)


def _doc_keys(rows: list[dict]) -> dict[tuple[str, int], str]:
    """(subtask, doc id) -> the document's key: its target when the targets of a subtask are
    distinct strings (strategic games: the scenario name), else the doc id."""
    by_sub: dict[str, dict[int, object]] = {}
    for r in rows:
        by_sub.setdefault(r["subtask"], {})[int(r["doc_id"])] = r.get("target")
    keys = {}
    for sub, targets in by_sub.items():
        named = all(isinstance(t, str) and t for t in targets.values()) and len(set(targets.values())) == len(targets)
        keys.update({(sub, i): str(t) if named else str(i) for i, t in targets.items()})
    return keys


def distributions(items: Items) -> dict[tuple[str, str], Dist]:
    """Per (subtask, document key): counts per ``share_*`` category (first filter, repeats summed)."""
    cats = categories(items)
    out: dict[tuple[str, str], Dist] = {}
    if not cats:
        return out
    filt = "none" if any(r.get("filter", "none") == "none" for r in items.rows) else items.rows[0].get("filter")
    rows = [r for r in items.rows if r.get("filter", "none") == filt]
    names = _doc_keys(rows)
    for r in rows:
        counts = r.get("counts") or {m: r["metrics"][m] for m in cats if m in (r.get("metrics") or {})}
        if not counts:
            continue
        key = (r["subtask"], names[(r["subtask"], int(r["doc_id"]))])
        d = out.setdefault(key, Dist(key, {m: 0 for m in cats}))
        for m in cats:
            d.counts[m] += int(round(float(counts.get(m, 0) or 0)))
    return out


def headline(cats: list[str], preferred: str | None) -> str:
    return preferred if preferred in cats else cats[0]


def _boot_shares(d: Dist, cat: str, rng: np.random.Generator, iters: int) -> np.ndarray:
    """Bootstrap replicates of one side's share (resampling its n answers = a binomial draw)."""
    if not d.n:
        return np.full(iters, np.nan)
    return rng.binomial(d.n, d.share(cat), size=iters) / d.n


def equal_test(a: Dist, b: Dist) -> tuple[str, float]:
    """Test of equal answer distributions on the 2 x k table of counts."""
    from scipy import stats

    cats = [c for c in a.counts if a.counts[c] + b.counts.get(c, 0) > 0]
    if len(cats) < 2:
        return "identical_single_category", 1.0
    table = np.array([[a.counts[c] for c in cats], [b.counts.get(c, 0) for c in cats]])
    if len(cats) == 2:
        return "fisher_exact", float(stats.fisher_exact(table).pvalue)
    return "chi2", float(stats.chi2_contingency(table).pvalue)


def _ci(samples: np.ndarray) -> tuple[float, float]:
    samples = samples[np.isfinite(samples)]
    if not samples.size:
        return float("nan"), float("nan")
    lo, hi = np.percentile(samples, [2.5, 97.5])
    return float(lo), float(hi)


def shift_rows(left: dict, right: dict, cat: str, iters: int = B_ITERS, seed: int = SEED) -> list[dict]:
    """Per document both sides have: shares, their difference with a CI, the equality test."""
    rng = np.random.default_rng(seed)
    rows = []
    for key in sorted(set(left) & set(right)):
        a, b = left[key], right[key]
        diff = _boot_shares(b, cat, rng, iters) - _boot_shares(a, cat, rng, iters)
        lo, hi = _ci(diff)
        test, p = equal_test(a, b)
        rows.append({"subtask": key[0], "doc": key[1], "category": cat, "n_left": a.n, "n_right": b.n,
                     "left_share": a.share(cat), "right_share": b.share(cat),
                     "diff": b.share(cat) - a.share(cat), "diff_low": lo, "diff_high": hi, "test": test, "p": p})
    return rows


def transfer(p_base: Any, p_tuned: Any, p_teacher: Any) -> Any:
    """Lore et al.'s transfer: the share of the base's distance to the teacher tuning removed."""
    gap = np.abs(np.asarray(p_base) - p_teacher)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(gap > 0, (gap - np.abs(np.asarray(p_tuned) - p_teacher)) / np.where(gap > 0, gap, 1), np.nan)


def signed_transfer(p_base: float, p_tuned: float, p_teacher: float) -> float:
    gap = p_base - p_teacher
    return (p_base - p_tuned) / gap if gap else float("nan")


def transfer_rows(base: dict, tuned: dict, teacher: dict, cat: str, iters: int = B_ITERS,
                  seed: int = SEED) -> tuple[list[dict], dict]:
    """Per-document transfer rows and the summary (mean over documents with a CI)."""
    rng = np.random.default_rng(seed)
    keys = sorted(set(base) & set(tuned) & set(teacher))
    rows = []
    for key in keys:
        b, t, T = base[key], tuned[key], teacher[key]
        pb, pt, pT = b.share(cat), t.share(cat), T.share(cat)
        sb, st, sT = (_boot_shares(d, cat, rng, iters) for d in (b, t, T))
        reps = transfer(sb, st, sT)
        value = float(transfer(pb, pt, pT))
        lo, hi = _ci(reps)
        _, p_bt = equal_test(b, T)
        rows.append({"subtask": key[0], "doc": key[1], "category": cat, "n_base": b.n, "n_tuned": t.n,
                     "n_teacher": T.n, "p_base": pb, "p_tuned": pt, "p_teacher": pT, "transfer": value,
                     "transfer_low": lo, "transfer_high": hi, "transfer_signed": signed_transfer(pb, pt, pT),
                     "base_equals_teacher": pb == pT, "base_teacher_p": p_bt})
    defined = np.array([r["transfer"] for r in rows if not r["base_equals_teacher"]])
    summary = {"documents": len(rows), "with_transfer": int(defined.size),
               "base_equals_teacher": [f"{r['subtask']}/{r['doc']}" for r in rows if r["base_equals_teacher"]],
               "mean_transfer": float(defined.mean()) if defined.size else float("nan")}
    if defined.size > 1:  # the mean over documents: documents resampled (a document's own CI is above)
        picks = rng.integers(0, defined.size, size=(iters, defined.size))
        summary["mean_low"], summary["mean_high"] = _ci(defined[picks].mean(axis=1))
    return rows, summary


def plot_transfer(rows: list[dict], names: tuple[str, str, str], path: Path) -> Path:
    """Per-document shares of base, tuned and teacher: one panel per subtask, a bar group per document."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(r["subtask"], []).append(r)
    widest = max(len(g) for g in groups.values())
    fig, axes = plt.subplots(len(groups), 1, figsize=(max(6.0, 0.5 * widest + 2), 3.2 * len(groups)), squeeze=False)
    cat = rows[0]["category"] if rows else "share"
    for ax, (sub, grp) in zip(axes[:, 0], groups.items()):
        x = np.arange(len(grp))
        for i, (col, name) in enumerate(zip(("p_base", "p_tuned", "p_teacher"), names)):
            ax.bar(x + (i - 1) * 0.27, [r[col] for r in grp], width=0.27, label=name)
        ax.set_xticks(x, [r["doc"] for r in grp], rotation=60, ha="right", fontsize=7)
        ax.set_ylabel(cat)
        ax.set_ylim(0, 1)
        ax.set_title(f"{sub}: {cat} per document", fontsize=9)
    axes[0, 0].legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
