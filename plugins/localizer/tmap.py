"""The t-map artifact: extract, test, cache, computed once per (model, stimuli, settings).

Every row of a matrix that shares a network and its settings (select, pct, seeds, ablation vary
freely) reuses one t-map from the artifact cache (``ctx.cache.fetch``: its memory tier, then disk),
keyed by the model fingerprint, the stimuli fingerprint, the settings and the code version.
Activations stay in the cache's memory tier (``ctx.cache.remember``), so ``stat=abs`` and
``stat=signed`` of the same network share one extraction.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import torch

from tom_harness import Activations, Stimuli, UsageError, content_key, extract, load_stimuli

from .stats import benjamini_hochberg, welch_t

if TYPE_CHECKING:  # pragma: no cover
    from tom_harness import RunContext

CACHE_KIND = "localizer_tmap"
#: bump when the computation of a cached t-map changes
TMAP_VERSION = "1"
PAPERS = ("tomechanisms", "alkhamissi")
LANG_MAX_TOKENS = 12  # the anchor tokenizes language stimuli with max_length=12


@dataclass(frozen=True)
class Settings:
    """Everything that changes a t-map (batch size does not: batched equals one-at-a-time)."""

    network: str
    stat: str
    pooling: str
    max_tokens: int | None
    wording: str = "paper"  # ToM stimuli text: the source code's (paper) or our rewording (harness)


def resolve_settings(network: str, stat: str, pooling: str, paper: str, wording: str = "paper") -> Settings:
    """Fill ``pooling=auto`` and language truncation from the chosen paper's protocol.

    ToMechanisms: mean over all tokens for every localizer, no truncation. AlKhamissi et al.:
    last token for language (stimuli cut at 12 tokens), mean for the others.
    """
    if paper not in PAPERS:
        raise UsageError(f"localizer: parameter 'paper': expected one of {'|'.join(PAPERS)}, got {paper!r}")
    if pooling == "auto":
        pooling = "last" if (paper == "alkhamissi" and network == "lang") else "mean"
    max_tokens = LANG_MAX_TOKENS if (paper == "alkhamissi" and network == "lang") else None
    return Settings(network, stat, pooling, max_tokens, wording)


@dataclass
class TMap:
    """t, p, BH-adjusted q and the mean activation per unit ([layers, hidden] each)."""

    tensors: dict[str, torch.Tensor]
    key: str
    source: str  # "memory" | "disk" | "computed"
    seconds: float
    stimuli: Stimuli

    @property
    def t(self) -> torch.Tensor:
        return self.tensors["t"]


def _activations(ctx: "RunContext", stimuli: Stimuli, pooling: str, batch_size: int) -> Activations:
    """Pooled activations, kept in the cache's memory tier (several t-maps share them)."""
    key = content_key(ctx.handle.fingerprint, stimuli.fingerprint, pooling)
    return ctx.cache.remember("localizer_activations", key, lambda: extract(
        ctx.handle.in_process_model(), ctx.tokenizer, stimuli.texts, pooling, batch_size, stimuli.max_tokens)).value


def compute_maps(acts: Activations, n_pos: int, stat: str) -> dict[str, torch.Tensor]:
    t, p = welch_t(acts.pooled[:n_pos], acts.pooled[n_pos:], stat)
    return {"t": t, "p": p.float(), "q": benjamini_hochberg(p).float(), "mean": acts.token_mean.float()}


def localize(ctx: "RunContext", settings: Settings, batch_size: int = 8) -> TMap:
    """The t-map for ``settings`` on the context's model, from the artifact cache (memory, disk) or computed."""
    stimuli = load_stimuli(settings.network, settings.max_tokens, settings.wording)
    key = content_key(CACHE_KIND, ctx.handle.fingerprint, stimuli.fingerprint, asdict(settings), TMAP_VERSION)
    start = time.perf_counter()

    def compute() -> dict[str, torch.Tensor]:
        acts = _activations(ctx, stimuli, settings.pooling, batch_size)
        return compute_maps(acts, len(stimuli.positive), settings.stat)

    meta = {"model": ctx.handle.name, **asdict(settings), "n_pos": len(stimuli.positive),
            "n_neg": len(stimuli.negative), "stimuli": stimuli.fingerprint}
    got = ctx.cache.fetch(CACHE_KIND, key, compute, fmt="tensors", meta=meta)
    return TMap(got.value, key, got.source, time.perf_counter() - start, stimuli)
