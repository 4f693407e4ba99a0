"""Residual-stream units: every hidden dimension of every decoder block's output.

The decoder blocks are found generically (the repeated block list of any causal LM), block outputs
may be a tuple (older transformers) or a bare tensor (transformers >= 5), and activations are
pooled inside the forward hook, so a batch never keeps more than one layer's full hidden states.
Batches are right-padded: under causal attention a real token never sees a pad that comes after
it, and position ids start at 0 for every row, so each row computes what it would alone.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import torch
from torch import nn

from tom_harness.errors import UsageError

POOLINGS = ("mean", "mean_nofirst", "last")


# -- finding the blocks ---------------------------------------------------------------------------
def _layer_count(model: nn.Module) -> int | None:
    config = getattr(model, "config", None)
    if config is None:
        return None
    if hasattr(config, "get_text_config"):
        config = config.get_text_config()
    for attr in ("num_hidden_layers", "n_layer", "num_layers"):
        value = getattr(config, attr, None)
        if isinstance(value, int) and value > 0:
            return value
    return None


def decoder_blocks(model: nn.Module) -> list[nn.Module]:
    """The decoder block list of ``model``: a ModuleList of same-type blocks.

    Preference: length equal to the config's (text) layer count, not inside a vision tower, then
    the most parameters. This finds ``model.layers`` (Llama, Qwen, Mistral), ``transformer.h``
    (GPT-2, Falcon), ``gpt_neox.layers`` and the text decoder of a VLM without per-model tables.
    """
    want = _layer_count(model)
    candidates = []
    for name, mod in model.named_modules():
        if isinstance(mod, nn.ModuleList) and len(mod) > 0 and len({type(m) for m in mod}) == 1:
            size = sum(p.numel() for p in mod.parameters())
            if size == 0:
                continue
            visual = any(w in name.lower() for w in ("vision", "visual", "image", "vit"))
            candidates.append(((want is not None and len(mod) == want), not visual, size, name, mod))
    if not candidates:
        raise UsageError(f"localizer: found no decoder block list in {type(model).__name__}")
    best = max(candidates, key=lambda c: c[:3])
    return list(best[4])


def block_hidden(output: Any) -> torch.Tensor:
    """The residual-stream tensor a block returns: the output itself, or its first element."""
    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, (tuple, list)) and output and isinstance(output[0], torch.Tensor):
        return output[0]
    raise TypeError(f"localizer: unexpected decoder block output {type(output).__name__}")


def replace_hidden(output: Any, hidden: torch.Tensor) -> Any:
    """``output`` with its residual-stream tensor replaced, keeping the container type."""
    if isinstance(output, torch.Tensor):
        return hidden
    if isinstance(output, list):
        return [hidden, *output[1:]]
    if type(output) is tuple:
        return (hidden, *output[1:])
    return type(output)((hidden, *output[1:]))  # namedtuple-like containers


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
            raise UsageError(f"localizer: stimulus {text[:40]!r} tokenizes to nothing")
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
        def fn(module: nn.Module, args: Any, output: Any) -> None:
            h = block_hidden(output).float()
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
        raise UsageError(f"localizer: parameter 'pooling': expected one of {'|'.join(POOLINGS)}, got {pooling!r}")
    if batch_size < 1:
        raise UsageError(f"localizer: parameter 'batch_size': must be >= 1, got {batch_size}")
    blocks = decoder_blocks(model)
    ids = tokenize(tokenizer, texts, max_tokens)
    order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))
    device = next(model.parameters()).device
    pad = _pad_id(tokenizer)
    pooler = _Pooler(blocks, pooling)
    handles = [b.register_forward_hook(pooler.hook(i)) for i, b in enumerate(blocks)]
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
                raise RuntimeError(f"localizer: {len(pooler.pooled)} of {len(blocks)} block hooks ran")
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
