"""What an intervention is handed: the loaded model, the artifact cache, data and a model caller.

This module is part of the contract layer, so it imports nothing else of the project: what a
handle or a context needs from lower-level code (the default model fingerprint, where data files
live) is *given* to it, either per object (``ModelHandle(fingerprint=...)``,
``RunContext(data=...)``) or once per process through :func:`use_defaults`, which the package
``tom_harness`` calls when it is imported.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Protocol

from tom_harness.api.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    import torch

log = logging.getLogger("tom_harness")


class DataAccess(Protocol):
    """Where data files live: ``root`` (the first data root) and ``path(dataset, relpath)`` (an
    existing, hash-checked file, or a DataMissingError naming the fetch command)."""

    @property
    def root(self) -> Path: ...

    def path(self, dataset: str, relpath: str) -> Path: ...


@dataclass
class _Defaults:
    data: DataAccess | None = None
    fingerprint: Callable[[Any], str] | None = None


_DEFAULTS = _Defaults()


def use_defaults(*, data: DataAccess | None = None, fingerprint: Callable[[Any], str] | None = None) -> None:
    """Set what a context or handle uses when its creator gave nothing: the data accessor, and
    ``fingerprint(torch_module) -> str`` for handles built without ``fingerprint=``."""
    if data is not None:
        _DEFAULTS.data = data
    if fingerprint is not None:
        _DEFAULTS.fingerprint = fingerprint


@dataclass
class BackendHooks:
    """The callables a backend gives its handle (see :class:`ModelHandle`'s keyword arguments).
    Shared by copies made with ``dataclasses.replace``, like the fingerprint once computed."""

    apply: Callable[[Callable], list] | None = None
    after_edit: Callable[[], None] | None = None
    close: Callable[[], None] | None = None
    fingerprint: str | Callable[[], str] | None = None
    in_process: Callable[[], Any] | None = None


@dataclass(init=False)
class ModelHandle:
    """One loaded model, shared by every cell of a matrix.

    * ``lm``: the lm-eval ``LM`` object (``HFLM``, ``VLLM`` or a backend's own) the tasks run on;
    * ``model``: the torch module for in-process backends (``hf``), else None;
    * ``apply_to_model(fn)``: run ``fn(torch_module)`` where the weights live and return the list
      of results (one per worker). For ``hf`` that is a direct call; for ``vllm`` it goes through
      the engine's ``apply_model``. Weight and activation interventions use this, not ``model``,
      so that they work on both backends.

    A backend whose model lives outside this process passes keyword arguments: ``apply(fn) ->
    list`` (run ``fn`` on each worker's module), ``after_edit()`` (weights changed: drop cached
    state), ``close()`` (release the engine), ``fingerprint`` (a string, or a function returning
    one; default: a hash of the weights computed through ``apply_to_model``) and ``in_process()``
    (load an in-process transformers copy of the same checkpoint, see :meth:`in_process_model`).
    """

    backend: str
    name: str
    lm: Any
    tokenizer: Any
    model: "torch.nn.Module | None"
    model_args: dict
    hooks: BackendHooks

    def __init__(self, backend: str, name: str, lm: Any, tokenizer: Any, model: "torch.nn.Module | None" = None,
                 model_args: dict | None = None, *, apply: Callable[[Callable], list] | None = None,
                 after_edit: Callable[[], None] | None = None, close: Callable[[], None] | None = None,
                 fingerprint: str | Callable[[], str] | None = None, in_process: Callable[[], Any] | None = None,
                 hooks: BackendHooks | None = None) -> None:
        self.backend, self.name, self.lm, self.tokenizer, self.model = backend, name, lm, tokenizer, model
        self.model_args = dict(model_args or {})
        given = {"apply": apply, "after_edit": after_edit, "close": close, "fingerprint": fingerprint,
                 "in_process": in_process}
        if hooks is not None and any(v is not None for v in given.values()):
            raise TypeError("ModelHandle: pass hooks= or the keyword arguments, not both")
        self.hooks = hooks if hooks is not None else BackendHooks(**given)

    def apply_to_model(self, fn: Callable[["torch.nn.Module"], Any]) -> list:
        if self.hooks.apply is not None:
            return self.hooks.apply(fn)
        if self.model is None:
            raise RuntimeError(f"backend {self.backend!r} exposes no model to edit")
        return [fn(self.model)]

    def after_edit(self) -> None:
        """Tell the backend that weights changed (vLLM: drop prefix-cached KV blocks)."""
        if self.hooks.after_edit is not None:
            self.hooks.after_edit()

    def close(self) -> None:
        """Release the backend (vLLM: shut the engine down and end its serialization scope).

        Idempotent; ``hf`` handles hold nothing to release beyond the module itself."""
        close, self.hooks.close = self.hooks.close, None
        if close is not None:
            close()

    @property
    def fingerprint(self) -> str:
        """Content hash of the model's weights and config (cache keys; computed once)."""
        value = self.hooks.fingerprint
        if isinstance(value, str):
            return value
        if value is None:
            if _DEFAULTS.fingerprint is None:
                raise RuntimeError("no model fingerprint function: import tom_harness, or pass ModelHandle(fingerprint=...)")
            value = self.apply_to_model(_DEFAULTS.fingerprint)[0]
        else:
            value = value()
        self.hooks.fingerprint = value
        return value

    def in_process_model(self) -> "torch.nn.Module":
        """A torch module of this checkpoint in this process: ``model`` itself, or for a backend
        whose model lives elsewhere (vLLM) the in-process transformers copy its ``in_process``
        loads. For what a remote model cannot do (gradients, plain activation batches); edits
        still go through :meth:`apply_to_model`."""
        if self.model is not None:
            return self.model
        if self.hooks.in_process is None:
            raise UsageError(f"backend {self.backend!r} has no in-process model and offers no copy "
                             "(its loader passes no ModelHandle(in_process=...))")
        return self.hooks.in_process()

    @property
    def device(self) -> Any:
        if self.model is not None:
            return next(self.model.parameters()).device
        return None


@dataclass
class RunContext:
    """Passed to ``Intervention.prepare/apply/remove/edit_prompts``.

    ``data`` is where data files come from (default: the data roots, ``--data_dir`` /
    ``TOM_HARNESS_DATA``); ``data_root`` is its first root unless given."""

    handle: ModelHandle
    cache: Any  # ArtifactCache
    caller: Any  # ModelCaller
    seed: int = 0
    data_root: Path | None = None
    show_progress: bool = True
    output_dir: Path | None = None
    data: DataAccess | None = None

    def __post_init__(self) -> None:
        if self.data is None:
            if _DEFAULTS.data is None:
                raise RuntimeError("no data accessor: import tom_harness, or pass RunContext(data=...)")
            self.data = _DEFAULTS.data
        if self.data_root is None:
            self.data_root = self.data.root

    @property
    def model(self) -> "torch.nn.Module | None":
        return self.handle.model

    @property
    def tokenizer(self) -> Any:
        return self.handle.tokenizer

    def data_path(self, dataset: str, relpath: str) -> Path:
        """``<root>/<dataset>/<relpath>`` from the first data root that has it, hash-checked."""
        return self.data.path(dataset, relpath)  # type: ignore[union-attr]

    def log(self, msg: str) -> None:
        log.info(msg)
