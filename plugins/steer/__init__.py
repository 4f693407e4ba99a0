"""Built-in plugin ``steer``: activation steering with a contrast direction (kind activations).

A direction per layer is the mean difference of residual activations between two contrast sets
(default: the ToM localizer's false-belief vs false-photo stories; ``file=`` for your own two
lists), added with multiplier ``alpha`` (``action=add``) or with the projection on it set to
``alpha`` (``action=clamp``) at the chosen ``layers``, on every position or only generated ones.
``control=random`` swaps in a seeded random direction of the same norm per layer. Vectors are
cached artifacts, and each row writes its vectors as an lm-eval ``steered`` file
(``OUT/steer/<row>.pt``) so the same steering runs in plain lm-eval. See docs/protocols.md.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

from tom_harness import (
    NETWORKS, POOLINGS, Intervention, Param, TaskInfo, UsageError, decoder_blocks, hookimpl,
    intervention_id, surgery,
)

from . import hooks
from .export import steer_config, write_steer_file
from .vector import contrast_stimuli, mean_difference, random_like

if TYPE_CHECKING:  # pragma: no cover
    from tom_harness import RunContext


class Steer(Intervention):
    name = "steer"
    kind = "activations"
    description = "activation steering along a contrast direction (default: ToM localizer belief - photo)"
    version = "1"
    params = (
        Param("contrast", "str", "tom", "localizer stimuli giving the two sets (positive - negative)", choices=NETWORKS),
        Param("file", "str", "", "JSON file {\"positive\": [...], \"negative\": [...]} (overrides contrast)"),
        Param("layers", "int_list", [], "decoder layers to steer, 0-based (default: the middle layer)"),
        Param("alpha", "float", 4.0, "multiplier (add) or target projection (clamp)"),
        Param("action", "str", "add", "add alpha * direction, or clamp the projection on it to alpha",
              choices=hooks.ACTIONS),
        Param("positions", "str", "all", "steer every position, or only generated tokens", choices=hooks.POSITIONS),
        Param("control", "str", "none", "none, or random: a seeded random direction of the same norm",
              choices=("none", "random")),
        Param("seed", "int", 0, "seed of the random direction", replicate=True, replicate_when=("control", "random"),
              minimum=0),
        Param("pooling", "str", "mean", "token pooling of the contrast activations", choices=POOLINGS),
        Param("batch_size", "int", 8, "stimuli per forward pass", minimum=1),
    )

    def __init__(self, **values: Any) -> None:
        super().__init__(**values)
        self.stimuli = contrast_stimuli(self.values["contrast"], self.values["file"])  # a bad file fails at planning
        self._vectors: dict[int, torch.Tensor] | None = None
        self._token = f"steer-{id(self):x}"
        self._installed = False

    def not_applicable_reason(self, task: TaskInfo) -> str | None:
        # generated-only steering does nothing to loglikelihood scoring
        if self.values["positions"] == "generated" and task.output_types and "generate_until" not in task.output_types:
            return f"{self.label()} does not apply to {task.name}: positions=generated needs a generation task"
        return super().not_applicable_reason(task)

    def unavailable(self, ctx: "RunContext") -> str | None:
        if ctx.handle.model is None and self.values["positions"] == "generated":
            return (f"steer:positions=generated tells generated tokens by one-token forward passes; backend "
                    f"{ctx.handle.backend!r} batches prompt and generated tokens together (positions=all runs there)")
        return None

    def prepare(self, ctx: "RunContext") -> None:
        model = ctx.handle.in_process_model()  # vLLM: vectors come from an in-process copy, hooks go to the engine
        blocks = len(decoder_blocks(model))
        layers = list(self.values["layers"]) or [blocks // 2]
        bad = [layer for layer in layers if not 0 <= layer < blocks]
        if bad:
            raise UsageError(f"steer: parameter 'layers': {bad} out of range; the model has layers 0..{blocks - 1}")
        maps = mean_difference(ctx, self.stimuli, self.values["pooling"], int(self.values["batch_size"]))
        direction = maps["direction"]
        if self.values["control"] == "random":
            direction = random_like(direction, int(self.values["seed"]))
        self._vectors = {layer: direction[layer].clone() for layer in layers}
        alpha, action = float(self.values["alpha"]), self.values["action"]
        self.metadata = {
            "contrast": self.stimuli.network, "n_pos": len(self.stimuli.positive), "n_neg": len(self.stimuli.negative),
            "layers": layers, "alpha": alpha, "action": action, "positions": self.values["positions"],
            "vector_norms": {str(k): round(float(v.norm()), 6) for k, v in self._vectors.items()},
            "stimuli_sha256": self.stimuli.fingerprint,
        }
        if ctx.output_dir is not None and self.values["positions"] == "all":
            path = ctx.output_dir / "steer" / f"{intervention_id(self.label())}.pt"
            write_steer_file(path, self.lm_eval_config(model))
            self.metadata["lm_eval_steer_file"] = str(path.relative_to(ctx.output_dir))

    def lm_eval_config(self, model: torch.nn.Module) -> dict:
        """This row's vectors in lm-eval's ``steered`` format (positions=all only: lm-eval steers all)."""
        if self._vectors is None:
            raise RuntimeError("steer: prepare() first")
        if self.values["positions"] != "all":
            raise UsageError("steer: lm-eval's steered model steers every position; export needs positions=all")
        return steer_config(model, self._vectors, float(self.values["alpha"]), self.values["action"])

    def apply(self, ctx: "RunContext") -> None:
        if self._vectors is None:
            self.prepare(ctx)
        if self._installed:
            return
        fn = hooks.steer_hooks(self._token, self._vectors, float(self.values["alpha"]), self.values["action"],
                               self.values["positions"])
        self.metadata["hooked_layers"] = ctx.handle.apply_to_model(fn)[0]
        self._installed = True

    def remove(self, ctx: "RunContext") -> None:
        if self._installed:
            ctx.handle.apply_to_model(surgery.RemoveStreamHooks(self._token))
            self._installed = False


@hookimpl
def register_interventions(register):
    register(Steer)
