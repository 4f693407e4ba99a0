"""Steering the residual stream, with the arithmetic of lm-eval's ``steered`` model.

``add``:   h + alpha * v                          (lm-eval: ``acts + vector * coefficient``)
``clamp``: h + d * (alpha - <h, d>), d = v / |v|  (lm-eval: projection on d set to the coefficient)

Both cast the vector to the activation dtype first and use the same operation order as
``lm_eval/models/hf_steered.py`` (0.4.13), so a vector exported with :mod:`.export` gives the
same numbers in plain lm-eval. The hooks are installed by the core's
``tom_harness.model.surgery.StreamHooks`` (the helper localizer lesions use), so steering runs on
HF and on vLLM alike, as two picklable ``apply_to_model`` calls. ``positions=generated`` steers only
the one-token forward passes of cached decoding (the positions of generated tokens; HF only: vLLM
batches prompt and generated tokens of several sequences into one flat pass); prompt positions
and loglikelihood scoring are left alone.
"""
from __future__ import annotations

from typing import Any

import torch

from tom_harness import surgery

ACTIONS = ("add", "clamp")
POSITIONS = ("all", "generated")


class Steering:
    """A picklable stream function for one layer: ``acts -> steered acts`` (None: unchanged).

    Device/dtype casts of the vector are memoised per process (not pickled)."""

    def __init__(self, vector: torch.Tensor, alpha: float, action: str, positions: str = "all") -> None:
        self.vector, self.alpha, self.action, self.positions = vector, float(alpha), action, positions
        self._cast: dict[tuple, torch.Tensor] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_cast": {}}

    def __call__(self, acts: torch.Tensor) -> torch.Tensor | None:
        if self.positions == "generated" and (acts.dim() < 3 or acts.shape[1] != 1):
            return None  # a prompt pass (HF: batch x tokens x hidden): unchanged
        where = (acts.device, acts.dtype)
        if where not in self._cast:
            v = self.vector.to(acts.device).to(acts.dtype)
            self._cast[where] = v * self.alpha if self.action == "add" else v / torch.norm(v)
        v = self._cast[where]
        if self.action == "add":
            return acts + v
        proj = torch.sum(acts * v, dim=-1, keepdim=True)
        return acts + v * (self.alpha - proj)


def steer_fn(vector: torch.Tensor, alpha: float, action: str) -> Steering:
    """``fn(acts) -> acts`` for one layer, every position."""
    return Steering(vector, alpha, action)


def steer_hooks(token: str, vectors: dict[int, torch.Tensor], alpha: float, action: str,
                positions: str) -> surgery.StreamHooks:
    """Install call hooking the layers of ``vectors`` (layer -> [hidden]); calling it on a model
    returns the number of hooks; ``surgery.RemoveStreamHooks(token)`` removes them."""
    return surgery.StreamHooks(token, {layer: Steering(v, alpha, action, positions) for layer, v in vectors.items()})
