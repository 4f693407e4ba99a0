"""Export steering vectors in the ``.pt`` format of lm-eval 0.4.13's ``steered`` model.

``lm_eval --model steered --model_args pretrained=...,steer_path=FILE.pt`` reads
``{hookpoint: {"steering_vector", "steering_coefficient", "action", "bias", "head_index"}}``
where a hookpoint is a module name under ``model.base_model`` (``layers.3`` for Llama).
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from tom_harness import UsageError, decoder_blocks


def hookpoints(model: nn.Module) -> list[str]:
    """The name of each decoder block under ``model.base_model``, in layer order."""
    base = getattr(model, "base_model", model)
    names = {id(m): n for n, m in base.named_modules()}
    out = []
    for block in decoder_blocks(model):
        if id(block) not in names:
            raise UsageError(f"steer: cannot name decoder blocks under {type(base).__name__} for lm-eval's steered model")
        out.append(names[id(block)])
    return out


def steer_config(model: nn.Module, vectors: dict[int, torch.Tensor], alpha: float, action: str) -> dict:
    points = hookpoints(model)
    return {points[layer]: {"steering_vector": v.detach().float().cpu().clone(), "steering_coefficient": float(alpha),
                            "action": action, "bias": None, "head_index": None}
            for layer, v in sorted(vectors.items())}


def write_steer_file(path: Path, config: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".pt.tmp")
    torch.save(config, tmp)
    tmp.replace(path)
    return path
