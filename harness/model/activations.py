"""Pooled residual-stream activations of a list of texts: one vector per text and decoder block.

The localizer contrasts them to find ToM-selective units (a unit is one hidden dimension of one
block's output); ``steer`` contrasts them to build steering vectors. Both plugins read them from
here, the core, rather than one from the other. The decoder blocks and the residual stream after each come from ``tom_harness.model.surgery`` (any
causal LM; tuple or bare-tensor block outputs), and activations are pooled inside the stream hook,
so a batch never keeps more than one layer's full hidden states.
Batches are right-padded: under causal attention a real token never sees a pad that comes after
it, and position ids start at 0 for every row, so each row computes what it would alone.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import torch
from torch import nn

from tom_harness.model import surgery
from tom_harness.api.errors import UsageError
from tom_harness.model.surgery import block_hidden, replace_hidden

__all__ = ["POOLINGS", "Activations", "block_hidden", "decoder_blocks", "extract", "replace_hidden", "tokenize"]

POOLINGS = ("mean", "mean_nofirst", "last")


# -- finding the blocks ---------------------------------------------------------------------------
def decoder_blocks(model: nn.Module) -> list[nn.Module]:
    """The decoder blocks of ``model`` (``tom_harness.model.surgery``), as a usage error if none."""
    try:
        return surgery.decoder_blocks(model)
    except ValueError:
        raise UsageError(f"found no decoder block list in {type(model).__name__} (tom_harness.model.surgery knows the HF and vLLM layouts)") from None


# -- extraction ------------------------------------------------------------------------------------
@dataclass
class Activations:
    """Pooled block outputs of a list of stimuli.

    ``pooled`` is [stimuli, layers, hidden] in float32 under the requested pooling; ``token_mean``
    is [layers, hidden], the mean over stimuli of each stimulus's mean over all its tokens (the
    value ``ablation=mean`` writes into lesioned units).
    """

    pooled: torch.Tensor
    token_mean: torch.Tensor
    n_tokens: list[int]


def tokenize(tokenizer: Any, texts: Sequence[str], max_tokens: int | None = None) -> list[list[int]]:
    """Token ids per text with the tokenizer's own special tokens and no chat template."""
    out = []
    for text in texts:
        kwargs = {"truncation": True, "max_length": max_tokens} if max_tokens else {}
        ids = list(tokenizer(text, add_special_tokens=True, **kwargs)["input_ids"])
        if not ids:
            raise UsageError(f"stimulus {text[:40]!r} tokenizes to nothing")
        out.append(ids)
    return out


def _pad_id(tokenizer: Any) -> int:
    for attr in ("pad_token_id", "eos_token_id", "unk_token_id"):
        value = getattr(tokenizer, attr, None)
        if isinstance(value, int):
            return value
    return 0


class _Stop(Exception):
    """Raised by the last block's hook: the final norm and LM head are not needed."""


class _Pooler:
    """Forward hooks that pool each block's output for the current batch."""

    def __init__(self, blocks: list[nn.Module], pooling: str) -> None:
        self.blocks, self.pooling = blocks, pooling
        self.mask: torch.Tensor | None = None  # [B, T] bool, real tokens
        self.lengths: torch.Tensor | None = None
        self.pooled: list[torch.Tensor] = []
        self.means: list[torch.Tensor] = []

    def hook(self, index: int):
        def fn(stream: torch.Tensor) -> None:
            h = stream.float()
            mask = self.mask.to(h.device)
            lengths = self.lengths.to(h.device)
            zeros = torch.zeros((), dtype=h.dtype, device=h.device)
            summed = torch.where(mask[..., None], h, zeros).sum(1)
            mean = summed / lengths[:, None]
            if self.pooling == "mean":
                pooled = mean
            elif self.pooling == "mean_nofirst":
                # a one-token stimulus has nothing after its first token: keep that token
                rest = (summed - h[:, 0]) / (lengths - 1).clamp(min=1)[:, None]
                pooled = torch.where((lengths > 1)[:, None], rest, h[:, 0])
            else:
                pooled = h[torch.arange(h.shape[0], device=h.device), lengths - 1]
            self.pooled.append(pooled.cpu())
            self.means.append(mean.cpu())
            if index == len(self.blocks) - 1:
                raise _Stop

        return fn


@torch.inference_mode()
def extract(
    model: nn.Module,
    tokenizer: Any,
    texts: Sequence[str],
    pooling: str = "mean",
    batch_size: int = 8,
    max_tokens: int | None = None,
) -> Activations:
    """Pooled block outputs for ``texts``, ``batch_size`` stimuli per forward pass.

    Stimuli are sorted by length so batches carry little padding; results come back in input order.
    """
    if pooling not in POOLINGS:
        raise UsageError(f"parameter 'pooling': expected one of {'|'.join(POOLINGS)}, got {pooling!r}")
    if batch_size < 1:
        raise UsageError(f"parameter 'batch_size': must be >= 1, got {batch_size}")
    blocks = decoder_blocks(model)
    ids = tokenize(tokenizer, texts, max_tokens)
    order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))
    device = next(model.parameters()).device
    pad = _pad_id(tokenizer)
    pooler = _Pooler(blocks, pooling)
    handles = [surgery.residual_hook(model, i, pooler.hook(i)) for i in range(len(blocks))]
    pooled_rows: list[torch.Tensor | None] = [None] * len(ids)
    mean_rows: list[torch.Tensor | None] = [None] * len(ids)
    try:
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            longest = max(len(ids[i]) for i in chunk)
            input_ids = torch.full((len(chunk), longest), pad, dtype=torch.long)
            mask = torch.zeros((len(chunk), longest), dtype=torch.bool)
            for row, i in enumerate(chunk):
                input_ids[row, : len(ids[i])] = torch.tensor(ids[i])
                mask[row, : len(ids[i])] = True
            pooler.mask, pooler.lengths = mask, mask.sum(1)
            pooler.pooled, pooler.means = [], []
            try:
                model(input_ids=input_ids.to(device), attention_mask=mask.long().to(device), use_cache=False)
            except _Stop:
                pass
            if len(pooler.pooled) != len(blocks):
                raise RuntimeError(f"activations: {len(pooler.pooled)} of {len(blocks)} block hooks ran")
            stacked = torch.stack(pooler.pooled, 1)  # [B, L, H]
            means = torch.stack(pooler.means, 1)
            for row, i in enumerate(chunk):
                pooled_rows[i], mean_rows[i] = stacked[row], means[row]
    finally:
        for h in handles:
            h.remove()
    return Activations(
        pooled=torch.stack(pooled_rows),  # type: ignore[arg-type]
        token_mean=torch.stack(mean_rows).mean(0),  # type: ignore[arg-type]
        n_tokens=[len(x) for x in ids],
    )
