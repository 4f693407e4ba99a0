"""Steering directions: the per-layer mean difference of residual activations between two sets.

Default contrast: the ToM localizer's false-belief stories (positive) vs false-photo stories
(negative), loaded through ``tom_harness.data.stimuli``; any localizer network works, or a
user JSON file ``{"positive": [...], "negative": [...]}``. Activations are decoder-block outputs
pooled per stimulus (``tom_harness.model.activations.extract``; on vLLM on the in-process HF copy
of the checkpoint, as the localizer's), so a direction is
``mean(pos) - mean(neg)`` per layer, shape [layers, hidden]. Cached in the artifact cache by model
fingerprint + stimuli fingerprint + pooling + version.

The random control keeps each layer's norm and draws a Gaussian direction from a seeded
generator, so a "steered by anything that large" effect can be told from the direction's own.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from tom_harness import Stimuli, UsageError, content_key, extract, load_stimuli

if TYPE_CHECKING:  # pragma: no cover
    from tom_harness import RunContext

CACHE_KIND = "steer_vectors"
VECTOR_VERSION = "1"


def file_stimuli(path: str) -> Stimuli:
    """Two lists of texts from a JSON file: {"positive": [...], "negative": [...]} or [[...], [...]]."""
    p = Path(path).expanduser()
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"steer: parameter 'file': no such file {p}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise UsageError(f"steer: parameter 'file': {p} is not JSON ({exc})") from None
    if isinstance(data, dict):
        pos, neg = data.get("positive"), data.get("negative")
    elif isinstance(data, list) and len(data) == 2:
        pos, neg = data
    else:
        pos = neg = None
    for name, texts in (("positive", pos), ("negative", neg)):
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) and t.strip() for t in texts):
            raise UsageError(f"steer: {p}: expected {{\"positive\": [texts], \"negative\": [texts]}}, "
                             f"each a non-empty list of non-empty strings ({name} is not)")
    return Stimuli("file", tuple(pos), tuple(neg), description=f"user contrast {p.name}", sources=(str(p),))


def contrast_stimuli(contrast: str, file: str) -> Stimuli:
    return file_stimuli(file) if file else load_stimuli(contrast)


def mean_difference(ctx: "RunContext", stimuli: Stimuli, pooling: str, batch_size: int) -> dict[str, torch.Tensor]:
    """{"direction", "pos_mean", "neg_mean"}, each [layers, hidden] float32 (cached)."""
    key = content_key(CACHE_KIND, ctx.handle.fingerprint, stimuli.fingerprint, pooling, VECTOR_VERSION)

    def compute() -> dict[str, torch.Tensor]:
        acts = extract(ctx.handle.in_process_model(), ctx.tokenizer, stimuli.texts, pooling, batch_size, stimuli.max_tokens)
        n = len(stimuli.positive)
        pos, neg = acts.pooled[:n].float().mean(0), acts.pooled[n:].float().mean(0)
        return {"direction": pos - neg, "pos_mean": pos, "neg_mean": neg}

    meta = {"model": ctx.handle.name, "network": stimuli.network, "pooling": pooling,
            "n_pos": len(stimuli.positive), "n_neg": len(stimuli.negative), "stimuli": stimuli.fingerprint}
    return ctx.cache.tensors(CACHE_KIND, key, compute, meta=meta)


def random_like(direction: torch.Tensor, seed: int) -> torch.Tensor:
    """A seeded Gaussian direction per layer with the same norm as ``direction``'s layer."""
    gen = torch.Generator().manual_seed(int(seed))
    noise = torch.randn(direction.shape, generator=gen, dtype=torch.float32)
    scale = direction.float().norm(dim=-1, keepdim=True) / noise.norm(dim=-1, keepdim=True)
    return noise * scale
