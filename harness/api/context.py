"""What an intervention is handed: the loaded model, the artifact cache, data and a model caller."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from tom_harness.cache.artifacts import ArtifactCache
from tom_harness.data.roots import data_dir

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from tom_harness.backends.caller import ModelCaller

log = logging.getLogger("tom_harness")


@dataclass
class ModelHandle:
    """One loaded model, shared by every cell of a matrix.

    * ``lm``: the lm-eval ``LM`` object (``HFLM`` or ``VLLM``) the tasks run on;
    * ``model``: the torch module for in-process backends (``hf``), else None;
    * ``apply_to_model(fn)``: run ``fn(torch_module)`` where the weights live and return the list
      of results (one per worker). For ``hf`` that is a direct call; for ``vllm`` it goes through
      the engine's ``apply_model``. Weight and activation interventions use this, not ``model``,
      so that they work on both backends.
    """

    backend: str
    name: str
    lm: Any
    tokenizer: Any
    model: "torch.nn.Module | None" = None
    model_args: dict = field(default_factory=dict)
    _apply: Callable[[Callable], list] | None = None
    _after_edit: Callable[[], None] | None = None
    _close: Callable[[], None] | None = None
    _fingerprint: str | None = None

    def apply_to_model(self, fn: Callable[["torch.nn.Module"], Any]) -> list:
        if self._apply is not None:
            return self._apply(fn)
        if self.model is None:
            raise RuntimeError(f"backend {self.backend!r} exposes no model to edit")
        return [fn(self.model)]

    def after_edit(self) -> None:
        """Tell the backend that weights changed (vLLM: drop prefix-cached KV blocks)."""
        if self._after_edit is not None:
            self._after_edit()

    def close(self) -> None:
        """Release the backend (vLLM: shut the engine down and end its serialization scope).

        Idempotent; ``hf`` handles hold nothing to release beyond the module itself."""
        close, self._close = self._close, None
        if close is not None:
            close()

    @property
    def fingerprint(self) -> str:
        """Content hash of the model's weights and config (cache keys; computed once)."""
        if self._fingerprint is None:
            from tom_harness.model.snapshot import model_fingerprint

            self._fingerprint = self.apply_to_model(model_fingerprint)[0]
        return self._fingerprint

    @property
    def device(self) -> Any:
        if self.model is not None:
            return next(self.model.parameters()).device
        return None


@dataclass
class RunContext:
    """Passed to ``Intervention.prepare/apply/remove/edit_prompts``."""

    handle: ModelHandle
    cache: ArtifactCache
    caller: "ModelCaller"
    seed: int = 0
    data_root: Path = field(default_factory=data_dir)
    show_progress: bool = True
    output_dir: Path | None = None

    @property
    def model(self) -> "torch.nn.Module | None":
        return self.handle.model

    @property
    def tokenizer(self) -> Any:
        return self.handle.tokenizer

    def data_path(self, dataset: str, relpath: str) -> Path:
        from tom_harness.data.roots import data_file

        return data_file(dataset, relpath)

    def log(self, msg: str) -> None:
        log.info(msg)
