"""Steering hooks on decoder-block outputs, with the arithmetic of lm-eval's ``steered`` model.

``add``:   h + alpha * v                          (lm-eval: ``acts + vector * coefficient``)
``clamp``: h + d * (alpha - <h, d>), d = v / |v|  (lm-eval: projection on d set to the coefficient)

Both cast the vector to the activation dtype first and use the same operation order as
``lm_eval/models/hf_steered.py`` (0.4.13), so a vector exported with :mod:`.export` gives the
same numbers in plain lm-eval. ``positions=generated`` steers only the one-token forward passes of
cached decoding (the positions of generated tokens); prompt positions and loglikelihood scoring
are left alone. Handles are kept on the model under a token, in the localizer's registry.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from tom_harness import block_hidden, decoder_blocks, replace_hidden, surgery

ACTIONS = ("add", "clamp")
POSITIONS = ("all", "generated")


def steer_fn(vector: torch.Tensor, alpha: float, action: str):
    """``fn(acts) -> acts`` for one layer (device/dtype casts memoised)."""
    cache: dict[tuple, torch.Tensor] = {}

    def fn(acts: torch.Tensor) -> torch.Tensor:
        where = (acts.device, acts.dtype)
        if where not in cache:
            v = vector.to(acts.device).to(acts.dtype)
            cache[where] = v * alpha if action == "add" else v / torch.norm(v)
        v = cache[where]
        if action == "add":
            return acts + v
        proj = torch.sum(acts * v, dim=-1, keepdim=True)
        return acts + v * (alpha - proj)

    return fn


def _hook(fn, positions: str):
    def hook(module: nn.Module, args: Any, output: Any) -> Any:
        h = block_hidden(output)
        if positions == "generated" and h.shape[1] != 1:
            return None  # a prompt pass: unchanged
        return replace_hidden(output, fn(h))

    return hook


def install(model: nn.Module, token: str, vectors: dict[int, torch.Tensor], alpha: float, action: str,
            positions: str) -> int:
    """Hook the blocks in ``vectors`` (layer -> [hidden]); returns the number of hooks.

    The handles are parked on the model under ``token`` by the core model-surgery module
    (``surgery.keep``), so one ``surgery.release`` removes them."""
    blocks = decoder_blocks(model)
    handles = [blocks[layer].register_forward_hook(_hook(steer_fn(v, alpha, action), positions))
               for layer, v in sorted(vectors.items())]
    surgery.keep(model, token, handles)  # raises (and removes them) if the token is in use
    return len(handles)


class Install:
    """Picklable ``fn(model)`` for ``apply_to_model``."""

    def __init__(self, token: str, vectors: dict[int, torch.Tensor], alpha: float, action: str, positions: str) -> None:
        self.args = (token, vectors, alpha, action, positions)

    def __call__(self, model: nn.Module) -> int:
        return install(model, *self.args)


class Uninstall:
    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, model: nn.Module) -> int:
        return surgery.release(model, self.token)
