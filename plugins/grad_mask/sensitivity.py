"""Squared-gradient (diagonal empirical Fisher) maps: F_D[W] = sum_i (d loss_i / dW)^2.

Follows Wu et al. (2025) ``create_gradient.py``: one sample per backward pass (so squaring the
gradient squares a *per-sample* gradient), a sum rather than a mean, no BOS, and

* ToM data: ``sparse_tom/fisher_prompts.json`` prompts, Python ``random`` seeded and the 640
  indices shuffled, first ``n`` kept; the loss is on the prompt's *last token only*;
* generic data: random ``seqlen``-token windows of random documents, every position supervised.

Deviations, on purpose: the squares are accumulated in float32 whatever the model dtype (the paper
accumulates in fp16, where |g| < 2.4e-4 squares to zero), and only the target weights require
gradients (the paper computes and discards the others), which changes memory, not the maps.
"""
from __future__ import annotations

import gzip
import json
import random
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import torch
from torch import nn

from .targets import Target

#: top-level WikiText article headings look like " = Title = " (sections are " = = ... = = ")
_WIKI_TITLE = re.compile(r"^ = [^=].* = $")


@dataclass
class MapStats:
    """How a map computation went (stored in cell metadata and printed by the benchmark)."""

    samples: int = 0
    tokens: int = 0
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds > 0 else 0.0


def _encode(tokenizer: Any, text: str) -> list[int]:
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def tom_samples(tokenizer: Any, path: Path, n: int, seed: int) -> list[list[int]]:
    """Token ids of ``n`` Fisher prompts, chosen as the paper does (seeded shuffle, first n)."""
    records = json.loads(Path(path).read_text(encoding="utf-8"))
    texts = [r["txt"] if isinstance(r, dict) else str(r) for r in records]
    if n > len(texts):
        raise ValueError(f"n_tom={n} but {path} holds only {len(texts)} prompts")
    order = list(range(len(texts)))
    random.Random(seed).shuffle(order)
    return [_encode(tokenizer, texts[i]) for i in order[:n]]


def wikitext_documents(path: Path) -> list[str]:
    """Split a WikiText file into articles at top-level ``= Title =`` headings."""
    docs: list[list[str]] = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if _WIKI_TITLE.match(line) or not docs:
            docs.append([])
        docs[-1].append(line)
    return [t for t in ("\n".join(d).strip() for d in docs) if t]


def c4_documents(paths: Sequence[Path]) -> list[str]:
    """The ``text`` field of every record in C4 JSON-lines shards (``.json`` or ``.json.gz``)."""
    out: list[str] = []
    for p in sorted(paths):
        opener = gzip.open if str(p).endswith(".gz") else open
        with opener(p, "rt", encoding="utf-8") as f:
            out.extend(json.loads(line)["text"] for line in f if line.strip())
    return out


def generic_samples(
    tokenizer: Any, documents: Sequence[str], n: int, seqlen: int, seed: int, tries: int = 100
) -> list[list[int]]:
    """``n`` windows of ``seqlen`` tokens: random document (at least ``seqlen`` tokens, up to
    ``tries`` draws), then a random start, with one seeded ``random.Random`` as in the paper."""
    rng = random.Random(seed)
    encoded: dict[int, list[int]] = {}
    out = []
    for _ in range(n):
        for _attempt in range(tries):
            i = rng.randint(0, len(documents) - 1)
            if i not in encoded:
                encoded[i] = _encode(tokenizer, documents[i])
            ids = encoded[i]
            if len(ids) >= seqlen:
                break
        else:
            raise ValueError(f"no document of at least {seqlen} tokens in {tries} draws; lower the window length")
        # the original draws no start for a document of exactly seqlen tokens
        start = 0 if len(ids) == seqlen else rng.randint(0, len(ids) - seqlen)
        out.append(ids[start : start + seqlen])
    return out


def sample_loss(model: nn.Module, ids: list[int], last_only: bool) -> torch.Tensor:
    """HF causal-LM loss of one sample: mean NLL over supervised positions, logits in float32.

    Full logits over every position, as the original's ``model(input_ids, labels=...)``: slicing
    the hidden states first (``logits_to_keep``) runs the vocabulary projection as a different
    matrix product, whose float32 rounding moved squared gradients by up to 5e-4 (relative).
    """
    device = next(model.parameters()).device
    limit = getattr(getattr(model, "config", None), "max_position_embeddings", None)
    if limit and len(ids) > limit:
        ids = ids[-limit:]  # the paper keeps the tail of over-long texts
    x = torch.tensor([ids], device=device)
    logits = model(input_ids=x, use_cache=False).logits[0].float()
    if last_only:
        return nn.functional.cross_entropy(logits[-2:-1], x[0, -1:])
    return nn.functional.cross_entropy(logits[:-1], x[0, 1:])


def squared_grad_maps(
    model: nn.Module,
    targets: Sequence[Target],
    samples: Sequence[list[int]],
    last_only: bool,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[dict[str, torch.Tensor], MapStats]:
    """Sum over samples of the squared per-sample gradient of every target weight (float32, CPU).

    Only the target weights require grad while this runs; each weight's gradient is squared into
    a float32 accumulator by a post-accumulate hook and then freed, so no second model-sized
    gradient buffer lives beside the accumulators. Model state (grad flags, train/eval) is put back.
    """
    params = dict(model.named_parameters())
    missing = [t.param for t in targets if t.param not in params]
    if missing:
        raise KeyError(f"target weights not in model: {missing[:3]}")
    saved_flags = {n: p.requires_grad for n, p in params.items()}
    was_training = model.training
    acc: dict[str, torch.Tensor] = {}
    handles = []

    def accumulate(name: str) -> Callable[[torch.Tensor], None]:
        def hook(p: torch.Tensor) -> None:
            g = p.grad.detach().float()
            acc[name].addcmul_(g, g)  # in place: no temporary of the weight's size
            p.grad = None

        return hook

    stats = MapStats()
    t0 = time.perf_counter()
    try:
        for p in params.values():
            p.requires_grad_(False)
        for t in targets:
            p = params[t.param]
            p.requires_grad_(True)
            p.grad = None
            acc[t.param] = torch.zeros(p.shape, dtype=torch.float32, device=p.device)
            handles.append(p.register_post_accumulate_grad_hook(accumulate(t.param)))
        model.eval()
        with torch.enable_grad():
            for i, ids in enumerate(samples):
                sample_loss(model, ids, last_only).backward()
                stats.samples += 1
                stats.tokens += len(ids)
                if progress is not None:
                    progress(i + 1, len(samples))
    finally:
        for h in handles:
            h.remove()
        for n, p in params.items():
            p.grad = None
            p.requires_grad_(saved_flags[n])
        model.train(was_training)
    stats.seconds = time.perf_counter() - t0
    return {k: v.cpu() for k, v in acc.items()}, stats
