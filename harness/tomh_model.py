"""The lm-eval model type ``tomh``: a base model plus one intervention, inside lm-eval's own CLI.

    tom-harness lm-eval --model tomh \
        --model_args pretrained=smollm2-135m,intervention=grad_mask:m=1e-5;control=random \
        --include_path task_yamls --tasks sparse_tom

Inside ``--model_args`` the intervention's own parameters are separated by ``;`` (lm-eval splits
model_args on commas). A double-quoted value with commas also works on lm-eval >= 0.4.10:
``intervention="grad_mask:m=1e-5,control=random"``. Other keys: ``backend`` (hf|vllm),
``data_dir``, ``cache_dir``, ``plugins`` (``;``-separated module refs); the rest go to the loader.
"""
from __future__ import annotations

import os
from typing import Any

from lm_eval.api.registry import register_model

from .cache import ArtifactCache
from .context import RunContext
from .datadir import set_data_dir
from .errors import UsageError
from .generation import GenerationStore, ModelCaller
from .lm_wrapper import InterventionLM
from .models import load
from .plugin_host import get_host
from .tasks import TaskCatalog


@register_model("tomh")
class TomhLM(InterventionLM):
    """Loads the model, prepares and applies the intervention for the whole lm-eval run."""

    def __init__(
        self, pretrained: str = "smollm2-135m", intervention: str = "none", backend: str = "hf",
        batch_size: Any = 1, device: str | None = None, data_dir: str | None = None,
        cache_dir: str | None = None, plugins: str | None = None, max_batch_size: Any = None,
        **model_args: Any,
    ) -> None:
        refs = [p for p in (plugins or os.environ.get("TOM_HARNESS_PLUGINS", "")).replace(",", ";").split(";") if p]
        host = get_host(refs)
        set_data_dir(data_dir)
        spec = str(intervention)
        sep = ";" if (";" in spec or "," not in spec) else ","
        rows = host.build_interventions(spec, pair_sep=sep)
        if len(rows) != 1:
            raise UsageError(f"tomh: intervention {spec!r} expands to {len(rows)} rows; lm-eval evaluates one (use `tom-harness run` for sweeps)")
        if isinstance(batch_size, str) and batch_size.isdigit():
            batch_size = int(batch_size)
        handle = load(host, backend, {"pretrained": pretrained, **model_args}, device, batch_size)
        super().__init__(handle.lm)
        cache = ArtifactCache(cache_dir) if cache_dir else ArtifactCache()
        caller = ModelCaller(handle.lm, GenerationStore(cache.root / "generations.sqlite"), handle.fingerprint)
        self.ctx = RunContext(handle=handle, cache=cache, caller=caller)
        include = [p for p in os.environ.get("TOM_HARNESS_INCLUDE_PATH", "").split(os.pathsep) if p]
        catalog = TaskCatalog.from_sources(host.task_sources, include)
        self.task_info = lambda name: _safe_info(catalog, name)
        self.intervention = rows[0]
        self.intervention.prepare(self.ctx)
        self.intervention.apply(self.ctx)
        handle.after_edit()
        self.handle = handle

    def get_model_info(self) -> dict:
        info = dict(self.inner.get_model_info()) if hasattr(self.inner, "get_model_info") else {}
        info["tom_harness_intervention"] = self.intervention.label()
        info["tom_harness_metadata"] = self.intervention.cell_metadata()
        return info


def _safe_info(catalog: TaskCatalog, name: str):
    from .interventions import TaskInfo

    try:
        return catalog.info(name)
    except Exception:  # noqa: BLE001 - a task from lm-eval's own folder: family = its name
        return TaskInfo(name, name)
