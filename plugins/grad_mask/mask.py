"""Which entries of each weight matrix to perturb.

Per matrix with N entries, ToM Fisher T and generic Fisher C (Wu et al. 2025,
``apply_mask_and_save``):

    k = int(m * N)                      (floor, with the float product as the paper computes it)
    A = top-k of T,  B = top-k of C     (same k for both)
    M = A \\ B   (or M = A with exclude_generic=False, the ToM-only variant)

Tie rules for "top-k":

* ``paper``: ``{j : T_j > kth largest value}`` (strict ``>``; k-1 entries without ties, none at
  k=1; fewer when the k-th value is tied). This is the released code's rule, taken from SqueezeLLM.
* ``exact``: exactly k entries, ties broken by the lower flat index (a stable sort).

The random control draws, per matrix, as many entries as the real mask holds, uniformly without
replacement, from a generator seeded by (seed, parameter name), so it is reproducible and
independent of the matrix order.
"""
from __future__ import annotations

import hashlib

import torch

TIE_RULES = ("paper", "exact")


def k_for(m: float, numel: int) -> int:
    """k = floor(m * N) computed as ``int(m * N)``, exactly as the released code does."""
    return max(0, int(m * numel))


def top_indices(scores: torch.Tensor, k: int, tie_rule: str = "paper") -> torch.Tensor:
    """Sorted flat indices of the top-k entries of ``scores`` under ``tie_rule``.

    Works from ``torch.topk`` alone (no N-sized boolean mask): every entry strictly above the
    k-th value is among the k returned, so only ties at the k-th value need a scan (exact rule).
    """
    flat = scores.reshape(-1)
    if k <= 0:
        return torch.zeros(0, dtype=torch.long)
    k = min(k, flat.numel())
    values, idx = torch.topk(flat, k)
    threshold = values[-1]
    above = idx[values > threshold]
    if tie_rule == "paper":
        chosen = above
    elif tie_rule == "exact":
        tied = torch.nonzero(flat == threshold).reshape(-1)  # ascending: lower index wins
        chosen = torch.cat([above, tied[: k - above.numel()]])
    else:
        raise ValueError(f"tie_rule must be one of {TIE_RULES}, got {tie_rule!r}")
    return torch.sort(chosen.cpu()).values


def select(
    tom: torch.Tensor, generic: torch.Tensor | None, m: float, tie_rule: str = "paper",
    exclude_generic: bool = True,
) -> torch.Tensor:
    """Sorted flat indices of M = topk(T) minus topk(C) (or topk(T) alone) for one matrix."""
    k = k_for(m, tom.numel())
    chosen = top_indices(tom, k, tie_rule)
    if exclude_generic and chosen.numel():
        if generic is None or generic.shape != tom.shape:
            raise ValueError("exclude_generic needs a generic map of the same shape")
        chosen = chosen[~torch.isin(chosen, top_indices(generic, k, tie_rule))]
    return chosen


def _seed_for(seed: int, name: str) -> int:
    digest = hashlib.sha256(f"{seed}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)


def random_indices(count: int, numel: int, seed: int, name: str) -> torch.Tensor:
    """``count`` distinct flat indices in [0, numel), sorted, seeded by (seed, name)."""
    if count <= 0:
        return torch.zeros(0, dtype=torch.long)
    if count > numel:
        raise ValueError(f"cannot draw {count} of {numel} entries")
    gen = torch.Generator().manual_seed(_seed_for(seed, name))
    return torch.sort(torch.randperm(numel, generator=gen)[:count]).values
