"""Built-in plugin ``adapter``: a peft (LoRA) adapter as a matrix row on the one loaded base model.

``adapter:path=DIR[,name=..]`` wraps the loaded model's layers with the adapter for the row's cells
and unwraps them afterwards, so base and fine-tuned models are rows of one matrix with one base
load. It is a ``weights`` row: the runner checks afterwards that every base tensor is bit-identical
and no hook is left; :meth:`Adapter.remove` also checks that the module tree is the one it found
(names and types), so no adapter module survives. Stacks: ``adapter:path=dpo+sbs``.

On vLLM the engine's own LoRA support is used (a ``LoRARequest`` on lm-eval's VLLM object),
which needs the engine started with ``enable_lora=True`` (``--model_args enable_lora=True,
max_lora_rank=R``); without it the row is n/a with that reason.
"""
from __future__ import annotations

import hashlib
import json
import zlib
from pathlib import Path
from typing import Any

from tom_harness import Intervention, Param, RestoreError, UsageError, hookimpl

_WEIGHT_FILES = ("adapter_model.safetensors", "adapter_model.bin")


def adapter_digest(folder: Path) -> str:
    """sha256 over the adapter's config and weight files (so a retrained adapter is a new state)."""
    h = hashlib.sha256()
    for name in ("adapter_config.json", *_WEIGHT_FILES):
        path = folder / name
        if path.is_file():
            h.update(name.encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def module_tree(model: Any) -> list[tuple[str, str]]:
    """(name, type) of every submodule: equal trees mean no adapter wrapper was left behind."""
    return [(n, type(m).__name__) for n, m in model.named_modules()]


class _Attach:
    """``fn(model)`` for ``apply_to_model``: wrap the layers, remember what to restore."""

    def __init__(self, path: str, name: str) -> None:
        self.path, self.name = path, name

    def __call__(self, model: Any) -> dict[str, Any]:
        from peft import PeftModel

        tree, grads = module_tree(model), {n: p.requires_grad for n, p in model.named_parameters()}
        peft_model = PeftModel.from_pretrained(model, self.path, adapter_name=self.name, is_trainable=False)
        n_lora = sum(p.numel() for n, p in peft_model.named_parameters() if "lora_" in n)
        return {"peft": peft_model, "tree": tree, "grads": grads, "adapter_params": n_lora}


class _Detach:
    def __init__(self, state: dict[str, Any]) -> None:
        self.state = state

    def __call__(self, model: Any) -> int:
        base = self.state["peft"].unload()  # puts every wrapped layer's base layer back
        if base is not model or module_tree(model) != self.state["tree"]:
            raise RestoreError("adapter: the module tree differs from the base model's after unloading")
        for n, p in model.named_parameters():
            p.requires_grad_(self.state["grads"].get(n, p.requires_grad))
        return len(self.state["tree"])


class Adapter(Intervention):
    """Activate a peft adapter on the loaded base model for this row's cells."""

    name = "adapter"
    kind = "weights"
    description = "a peft (LoRA) adapter on the loaded base model (one base load for base and fine-tuned rows)"
    params = (
        Param("path", "str", "", "folder of a peft adapter (adapter_config.json + weights)"),
        Param("name", "str", "", "adapter name (default: the folder's name)"),
    )

    def __init__(self, **values: Any) -> None:
        super().__init__(**values)
        self._state: list[dict[str, Any]] | None = None
        self._vllm_prev: Any = None
        self.folder()  # a wrong path fails while the matrix is planned, before the model loads

    # -- checks -------------------------------------------------------------------------------
    def folder(self) -> Path:
        raw = str(self.values.get("path") or "")
        if not raw:
            raise UsageError("adapter: give path=DIR, the folder of a peft adapter")
        folder = Path(raw).expanduser().resolve()
        if not (folder / "adapter_config.json").is_file():
            raise UsageError(f"adapter: {folder} holds no adapter_config.json (not a peft adapter folder)")
        if not any((folder / f).is_file() for f in _WEIGHT_FILES):
            raise UsageError(f"adapter: {folder} holds no adapter weights ({' or '.join(_WEIGHT_FILES)})")
        return folder

    def adapter_name(self) -> str:
        return str(self.values.get("name") or self.folder().name)

    def unavailable(self, ctx: Any) -> str | None:
        """Why this row cannot run on the loaded backend (the runner writes n/a cells), or None."""
        if ctx.handle.backend == "vllm" and not _vllm_lora_enabled(ctx.handle.lm):
            return ("adapter on vLLM needs the engine started with LoRA support: "
                    "--model_args enable_lora=True,max_lora_rank=R")
        if ctx.handle.backend not in ("hf", "vllm") and ctx.handle.model is None:
            return f"adapter: backend {ctx.handle.backend!r} exposes no model to wrap"
        return None

    def prepare(self, ctx: Any) -> None:
        folder = self.folder()
        config = json.loads((folder / "adapter_config.json").read_text())
        self.metadata = {"adapter_path": str(folder), "adapter_name": self.adapter_name(),
                         "adapter_sha256": adapter_digest(folder), "peft_type": config.get("peft_type"),
                         "base_model": config.get("base_model_name_or_path"), "rank": config.get("r")}

    # -- lifecycle ----------------------------------------------------------------------------
    def apply(self, ctx: Any) -> None:
        if "adapter_sha256" not in self.metadata:
            self.prepare(ctx)
        # the generation cache must tell this adapter's outputs from another's at the same path
        ctx.caller.state = f"{ctx.caller.state}@{self.metadata['adapter_sha256'][:16]}"
        if ctx.handle.backend == "vllm":
            from vllm.lora.request import LoRARequest

            lm = ctx.handle.lm
            self._vllm_prev = lm.lora_request
            lora_id = zlib.crc32(self.metadata["adapter_sha256"].encode()) % (2**31 - 1) + 1
            lm.lora_request = LoRARequest(self.adapter_name(), lora_id, str(self.folder()))
            return
        self._state = ctx.handle.apply_to_model(_Attach(str(self.folder()), self.adapter_name()))
        self.metadata["adapter_params"] = self._state[0]["adapter_params"]

    def remove(self, ctx: Any) -> None:
        if ctx.handle.backend == "vllm":
            ctx.handle.lm.lora_request = self._vllm_prev
            return
        if self._state is not None:
            state, self._state = self._state, None
            ctx.handle.apply_to_model(_Detach(state[0]))


def _vllm_lora_enabled(lm: Any) -> bool:
    """lm-eval's VLLM keeps the engine arguments in ``model_args`` (``enable_lora`` among them)."""
    return bool((getattr(lm, "model_args", None) or {}).get("enable_lora"))


@hookimpl
def register_interventions(register):
    register(Adapter)
