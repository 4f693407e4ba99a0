"""The weights a run reads: GGUF checkpoints dequantised for vLLM, the in-process HF twin, dtypes.

vLLM reads HF folders, not the GGUF file behind the ``smollm2-135m`` alias, so the GGUF is
dequantised once into the artifact cache (keyed by the file's sha256). The HF twin loads the same
checkpoint into this process for what vLLM modules cannot do (gradients, plain activation batches);
both built-in backends hand it to their ``ModelHandle`` as ``in_process`` (plugins ask for it
through ``ModelHandle.in_process_model()``).
"""
from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from typing import Any, Callable

from tom_harness.api.errors import UsageError
from tom_harness.cache.artifacts import remember

log = logging.getLogger("tom_harness")


def dequantised_folder(folder: str, gguf_file: str, dtype: str = "float32") -> Path:
    """An HF folder with the GGUF's weights dequantised to ``dtype``, made once per GGUF file."""
    from tom_harness.cache.artifacts import default_cache_root, file_sha256

    gguf = Path(os.path.expanduser(folder)) / gguf_file
    out = default_cache_root() / "vllm_hf" / f"{file_sha256(gguf)[:24]}-{dtype}"
    if (out / "config.json").exists():
        return out
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    log.info("vllm: dequantising %s once into %s", gguf, out)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=getattr(torch, dtype))
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model.hf_quantizer = None  # the weights are plain floats now; GGUF models refuse to save otherwise
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    tmp = out.with_name(out.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    try:
        tmp.rename(out)
    except OSError:  # another process finished first
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def torch_dtype(value: Any) -> Any:
    """``dtype=`` of model_args as transformers takes it: ``"auto"``, or a ``torch.dtype``."""
    import torch

    if value in (None, "auto"):
        return "auto"
    if isinstance(value, torch.dtype):
        return value
    try:
        return getattr(torch, str(value))
    except AttributeError:
        raise UsageError(f"model_args: dtype: expected auto|float32|bfloat16|float16, got {value!r}") from None


# -- the HF twin ------------------------------------------------------------------------------------
def _twin(pretrained: str, gguf_file: str | None, dtype: str | None) -> Any:
    import torch
    from transformers import AutoModelForCausalLM

    device = "cuda" if torch.cuda.is_available() else "cpu"
    kwargs = {"gguf_file": gguf_file} if gguf_file else {}
    model = AutoModelForCausalLM.from_pretrained(pretrained, dtype=torch_dtype(dtype), **kwargs)
    return model.to(device).eval()


def twin_loader(model_args: dict) -> Callable[[], Any]:
    """``in_process`` for a handle loaded from ``model_args``: an in-process transformers copy of
    the checkpoint, loaded once per process (``pretrained``, ``gguf_file``, ``dtype``).

    vLLM modules cannot be differentiated through and take no plain ``input_ids`` batch, so
    squared-gradient maps (grad_mask) and localizer activations are computed on this copy; their
    results are cached by the vLLM model's fingerprint like any artifact.
    """
    spec = (str(model_args["pretrained"]), model_args.get("gguf_file"), model_args.get("dtype"))

    def load() -> Any:
        log.warning("loading an HF copy of %s in-process (maps and activations for a model held elsewhere)", spec[0])
        return remember("hf_twin", repr(spec), lambda: _twin(*spec), pin=True).value  # once per process

    return load
