"""The weights a vLLM run reads: GGUF checkpoints dequantised for vLLM, and the in-process HF twin.

vLLM reads HF folders, not the GGUF file behind the ``smollm2-135m`` alias, so the GGUF is
dequantised once into the artifact cache (keyed by the file's sha256). The HF twin loads the same
checkpoint into this process for what vLLM modules cannot do (gradients, plain activation batches).
"""
from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from typing import Any

from tom_harness.cache.artifacts import remember
from tom_harness.api.context import ModelHandle

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


# -- the HF twin ------------------------------------------------------------------------------------
def _twin(pretrained: str, gguf_file: str | None, dtype: str | None) -> Any:
    import torch
    from transformers import AutoModelForCausalLM

    from tom_harness.backends.loading import _dtype

    device = "cuda" if torch.cuda.is_available() else "cpu"
    kwargs = {"gguf_file": gguf_file} if gguf_file else {}
    model = AutoModelForCausalLM.from_pretrained(pretrained, dtype=_dtype(dtype), **kwargs)
    return model.to(device).eval()


def hf_twin(handle: ModelHandle) -> Any:
    """An in-process transformers copy of the handle's checkpoint, loaded once per process.

    vLLM modules cannot be differentiated through and take no plain ``input_ids`` batch, so
    squared-gradient maps (grad_mask) and localizer activations are computed on this copy; their
    results are cached by the vLLM model's fingerprint like any artifact.
    """
    if handle.model is not None:
        return handle.model
    args = handle.model_args
    log.warning("loading an HF copy of %s in-process (maps and activations for the vLLM run)", args.get("pretrained"))
    spec = (str(args["pretrained"]), args.get("gguf_file"), args.get("dtype"))
    return remember("hf_twin", repr(spec), lambda: _twin(*spec), pin=True).value  # once per process
