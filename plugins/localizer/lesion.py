"""Lesioning: forward hooks that overwrite selected residual dimensions at every position.

The hooks sit on decoder block outputs, so they act on prompt tokens and on every generated token
alike. They return a new tensor (``torch.where``) rather than writing in place, so no other holder
of the block output is changed behind its back. The handles are kept on the model under a token,
so installing and removing work through ``ModelHandle.apply_to_model`` (a function of the model
only) on any backend that runs them where the model lives.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .units import block_hidden, decoder_blocks, replace_hidden

_ATTR = "_tom_harness_localizer_hooks"


def _hook(selected: torch.Tensor, values: torch.Tensor):
    cache: dict[tuple, tuple[torch.Tensor, torch.Tensor]] = {}

    def fn(module: nn.Module, args: Any, output: Any) -> Any:
        h = block_hidden(output)
        where = (h.device, h.dtype)
        if where not in cache:
            cache[where] = (selected.to(h.device), values.to(h.device, h.dtype))
        sel, val = cache[where]
        return replace_hidden(output, torch.where(sel, val, h))

    return fn


def install(model: nn.Module, token: str, mask: torch.Tensor, fill: torch.Tensor) -> int:
    """Hook every block with a selected unit: ``mask`` [layers, hidden] bool, ``fill`` the values
    written there (zeros, or mean activations). Returns the number of hooks registered."""
    blocks = decoder_blocks(model)
    if mask.shape[0] != len(blocks):
        raise ValueError(f"mask has {mask.shape[0]} layers, model has {len(blocks)} blocks")
    registry: dict[str, list] = model.__dict__.setdefault(_ATTR, {})
    if token in registry:
        raise RuntimeError(f"localizer hooks {token} are already installed")
    handles = []
    for layer, block in enumerate(blocks):
        if mask[layer].any():
            handles.append(block.register_forward_hook(_hook(mask[layer].clone(), fill[layer].clone())))
    registry[token] = handles
    return len(handles)


def uninstall(model: nn.Module, token: str) -> int:
    """Remove the hooks installed under ``token``; returns how many were removed."""
    registry: dict[str, list] = model.__dict__.get(_ATTR, {})
    handles = registry.pop(token, [])
    for h in handles:
        h.remove()
    if not registry and _ATTR in model.__dict__:
        del model.__dict__[_ATTR]
    return len(handles)
