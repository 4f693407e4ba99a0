"""Lesioning: residual-stream hooks that overwrite selected dimensions at every position.

The hooks come from ``tom_harness.model.surgery.residual_hook``, so they act on the residual stream after
each block, on prompt tokens and on every generated token alike, on HF and on vLLM (where the
stream is the sum of the block's ``(hidden_states, residual)`` pair). They return a new tensor
(``torch.where``) rather than writing in place, so no other holder of the block output is changed
behind its back. The handles are parked on the model under a token, so installing and removing
are two picklable calls through ``ModelHandle.apply_to_model`` on any backend.
"""
from __future__ import annotations

import torch
from torch import nn

from tom_harness import decoder_blocks, surgery


def _writer(selected: torch.Tensor, values: torch.Tensor):
    cache: dict[tuple, tuple[torch.Tensor, torch.Tensor]] = {}

    def fn(stream: torch.Tensor) -> torch.Tensor:
        where = (stream.device, stream.dtype)
        if where not in cache:
            cache[where] = (selected.to(stream.device), values.to(stream.device, stream.dtype))
        sel, val = cache[where]
        return torch.where(sel, val, stream)

    return fn


def install(model: nn.Module, token: str, mask: torch.Tensor, fill: torch.Tensor) -> int:
    """Hook every block with a selected unit: ``mask`` [layers, hidden] bool, ``fill`` the values
    written there (zeros, or mean activations). Returns the number of hooks registered."""
    blocks = decoder_blocks(model)
    if mask.shape[0] != len(blocks):
        raise ValueError(f"mask has {mask.shape[0]} layers, model has {len(blocks)} blocks")
    handles = [
        surgery.residual_hook(model, layer, _writer(mask[layer].clone(), fill[layer].clone()))
        for layer in range(len(blocks)) if mask[layer].any()
    ]
    surgery.keep(model, token, handles)
    return len(handles)


def uninstall(model: nn.Module, token: str) -> int:
    """Remove the hooks installed under ``token``; returns how many were removed."""
    return surgery.release(model, token)
