"""vLLM general plugin (entry point ``vllm.general_plugins``): dense linear weights on CPU.

vLLM imports this in every one of its processes, workers included. It does nothing unless the
environment has ``TOM_HARNESS_VLLM_DENSE=1``, which the harness sets only for an engine it starts
(``vllm_backend.start``, unless ``cpu_prepack=true``). Then vLLM's CPU backend keeps each
unquantised linear layer's dense ``.weight`` and computes with ``torch.nn.functional.linear``
instead of prepacking the weight for oneDNN and emptying ``.weight``: in-place weight edits then
reach the forward pass, and the restore check and fingerprint see the real weights. vLLM offers
this path itself for layers it marks ``_cpu_skip_gemm_dispatch``; the plugin marks every layer.
"""
from __future__ import annotations

import os

ENV_DENSE = "TOM_HARNESS_VLLM_DENSE"


def register() -> None:
    if os.environ.get(ENV_DENSE) != "1":
        return
    from vllm.model_executor.layers.linear import UnquantizedLinearMethod

    original = UnquantizedLinearMethod.process_weights_after_loading
    if getattr(original, "_tom_harness_dense", False):
        return

    def process_weights_after_loading(self, layer):
        layer._cpu_skip_gemm_dispatch = True
        return original(self, layer)

    process_weights_after_loading._tom_harness_dense = True
    UnquantizedLinearMethod.process_weights_after_loading = process_weights_after_loading
