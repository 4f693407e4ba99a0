"""Find the per-layer linear projections that the Fisher mask scores, on any decoder architecture.

The paper scores the seven Llama projections (attention q/k/v/o, MLP gate/up/down). To work on other
architectures we find them by module type, not by hard-coded paths: the decoder blocks are the
largest ``nn.ModuleList`` of identical blocks, and every linear layer (``nn.Linear`` or GPT-2's
``Conv1D``) inside a block is a target. Each target gets a *role* from its leaf name (``q``, ``k``,
``v``, ``o``, ``gate``, ``up``, ``down``, fused ``qkv`` / ``gate_up``); unknown names keep their leaf
name as role, so nothing is silently dropped. MoE routers are skipped: they are not projections.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

#: leaf module name -> role. Covers Llama/Mistral/Qwen/Gemma, OPT, GPT-2, GPT-NeoX, Falcon, Phi,
#: Mixtral experts (w1 gate, w3 up, w2 down).
ROLE_OF_LEAF = {
    "q_proj": "q", "query": "q", "wq": "q",
    "k_proj": "k", "key": "k", "wk": "k",
    "v_proj": "v", "value": "v", "wv": "v",
    "o_proj": "o", "out_proj": "o", "wo": "o",
    "qkv_proj": "qkv", "query_key_value": "qkv", "c_attn": "qkv", "Wqkv": "qkv",
    "gate_proj": "gate", "w1": "gate",
    "up_proj": "up", "fc1": "up", "c_fc": "up", "dense_h_to_4h": "up", "fc_in": "up", "w3": "up",
    "down_proj": "down", "fc2": "down", "dense_4h_to_h": "down", "fc_out": "down", "w2": "down",
    "gate_up_proj": "gate_up",
}
#: leaves whose role depends on whether they sit in the attention or the MLP block
_CONTEXT_LEAVES = {"dense": ("o", "down"), "c_proj": ("o", "down")}
_ROUTER_LEAVES = {"router", "gate"}
#: the order of roles in tables (the paper's seven first)
ROLE_ORDER = ("q", "k", "v", "o", "qkv", "gate", "up", "down", "gate_up")


@dataclass(frozen=True)
class Target:
    """One scored weight matrix: ``param`` is its full parameter name in the model."""

    param: str
    layer: int
    role: str
    shape: tuple[int, ...]

    @property
    def numel(self) -> int:
        return math.prod(self.shape)


def _is_linear(mod: nn.Module) -> bool:
    if isinstance(mod, nn.Linear):
        return True
    # transformers' GPT-2 style Conv1D: a linear layer with a transposed weight
    return type(mod).__name__ == "Conv1D" and isinstance(getattr(mod, "weight", None), torch.Tensor)


def decoder_blocks(model: nn.Module) -> tuple[str, nn.ModuleList]:
    """The ModuleList of repeated decoder blocks: the one of same-type blocks holding most weights."""
    best: tuple[int, str, nn.ModuleList] | None = None
    for name, mod in model.named_modules():
        if not isinstance(mod, nn.ModuleList) or len(mod) == 0:
            continue
        if len({type(child) for child in mod}) != 1:
            continue
        if not any(_is_linear(m) for m in mod[0].modules()):
            continue
        size = sum(p.numel() for p in mod.parameters())
        if best is None or size > best[0]:
            best = (size, name, mod)
    if best is None:
        raise ValueError(f"no decoder block list with linear layers found in {type(model).__name__}")
    return best[1], best[2]


def role_for(path_in_block: str) -> str | None:
    """Role of a linear layer from its dotted path inside a block; None for a router."""
    parts = path_in_block.split(".")
    leaf = parts[-1]
    if leaf in _ROUTER_LEAVES:
        return None
    if leaf in ROLE_OF_LEAF:
        return ROLE_OF_LEAF[leaf]
    if leaf in _CONTEXT_LEAVES:
        in_attn = any("attn" in p.lower() or "attention" in p.lower() for p in parts[:-1])
        return _CONTEXT_LEAVES[leaf][0 if in_attn else 1]
    return leaf


def find_targets(model: nn.Module) -> list[Target]:
    """Every linear projection weight inside the decoder blocks, in model order."""
    prefix, blocks = decoder_blocks(model)
    out: list[Target] = []
    for layer, block in enumerate(blocks):
        for sub, mod in block.named_modules():
            if not sub or not _is_linear(mod):
                continue
            role = role_for(sub)
            if role is None:
                continue
            param = f"{prefix}.{layer}.{sub}.weight" if prefix else f"{layer}.{sub}.weight"
            out.append(Target(param=param, layer=layer, role=role, shape=tuple(mod.weight.shape)))
    if not out:
        raise ValueError(f"no linear projections found inside the blocks of {type(model).__name__}")
    return out


def role_rank(role: str) -> tuple[int, str]:
    """Sort key putting the paper's roles first, in the paper's order."""
    return (ROLE_ORDER.index(role) if role in ROLE_ORDER else len(ROLE_ORDER), role)
