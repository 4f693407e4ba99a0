"""Lesioning: residual-stream hooks that overwrite selected dimensions at every position.

The hooks are installed by the core's ``tom_harness.model.surgery.StreamHooks`` (the same
helper steering uses), so they act on the residual stream after each block, on prompt tokens and
on every generated token alike, on HF and on vLLM (where the stream is the sum of the block's
``(hidden_states, residual)`` pair). They return a new tensor (``torch.where``) rather than
writing in place, so no other holder of the block output is changed behind its back. Installing
and removing are two picklable calls through ``ModelHandle.apply_to_model`` on any backend.
"""
from __future__ import annotations

from typing import Any

import torch

from tom_harness import surgery


class Overwrite:
    """A picklable stream function: ``stream`` with the ``selected`` dims set to ``values``."""

    def __init__(self, selected: torch.Tensor, values: torch.Tensor) -> None:
        self.selected, self.values = selected, values
        self._cast: dict[tuple, tuple[torch.Tensor, torch.Tensor]] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {"selected": self.selected, "values": self.values, "_cast": {}}

    def __call__(self, stream: torch.Tensor) -> torch.Tensor:
        where = (stream.device, stream.dtype)
        if where not in self._cast:
            self._cast[where] = (self.selected.to(stream.device), self.values.to(stream.device, stream.dtype))
        sel, val = self._cast[where]
        return torch.where(sel, val, stream)


def lesion_hooks(token: str, mask: torch.Tensor, fill: torch.Tensor) -> surgery.StreamHooks:
    """Install call for every block with a selected unit: ``mask`` [layers, hidden] bool, ``fill``
    the values written there (zeros, or mean activations). Calling it on a model returns the
    number of hooks registered; ``surgery.RemoveStreamHooks(token)`` removes them."""
    return surgery.StreamHooks(token, {layer: Overwrite(mask[layer].clone(), fill[layer].clone())
                                       for layer in range(mask.shape[0]) if mask[layer].any()})


def install(model: torch.nn.Module, token: str, mask: torch.Tensor, fill: torch.Tensor) -> int:
    """Hook ``model`` in this process (a mask with the wrong layer count is an error)."""
    blocks = len(surgery.decoder_blocks(model))
    if mask.shape[0] != blocks:
        raise ValueError(f"mask has {mask.shape[0]} layers, model has {blocks} blocks")
    return lesion_hooks(token, mask, fill)(model)


def uninstall(model: torch.nn.Module, token: str) -> int:
    """Remove the hooks installed under ``token``; returns how many were removed."""
    return surgery.RemoveStreamHooks(token)(model)
