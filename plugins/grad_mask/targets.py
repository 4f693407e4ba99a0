"""The per-layer linear projections the Fisher mask scores: the core surgery module's targets.

The paper scores the seven Llama projections (attention q/k/v/o, MLP gate/up/down). The decoder
blocks and their linear layers are found by ``tom_harness.model.surgery`` on any architecture (and on
vLLM's fused layout); this module only names what grad_mask uses from it.
"""
from __future__ import annotations

from torch import nn

from tom_harness import ROLE_ORDER, Target, role_rank, target_linears

__all__ = ["ROLE_ORDER", "Target", "find_targets", "role_rank"]


def find_targets(model: nn.Module) -> list[Target]:
    """Every linear projection weight inside the decoder blocks, in model order (all roles)."""
    return target_linears(model)
