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

import functools
import os
from typing import Any

from lm_eval.api.registry import register_model

from tom_harness.cache.artifacts import ArtifactCache
from tom_harness.api.context import RunContext
from tom_harness.data.roots import set_data_dir
from tom_harness.api.errors import UsageError
from tom_harness.backends.caller import GenerationStore, ModelCaller
from tom_harness.lmeval.wrapper import InterventionLM
from tom_harness.backends.loading import load
from tom_harness.host.plugin_host import get_host
from tom_harness.lmeval.tasks import TaskCatalog


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
        spec = "none" if intervention is None else str(intervention)  # lm-eval parses "none" to None
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
        self.host = host
        _process_results_after_evaluate()

    def process_results(self, results: dict) -> None:
        """The host's result processors (e.g. seed std), once per top-level task of the run."""
        nested = {t for subs in results.get("group_subtasks", {}).values() for t in subs}
        for name in [t for t in results.get("results", {}) if t not in nested]:
            self.host.process_results(results, self.task_info(name))

    def get_model_info(self) -> dict:
        info = dict(self.inner.get_model_info()) if hasattr(self.inner, "get_model_info") else {}
        info["tom_harness_intervention"] = self.intervention.label()
        info["tom_harness_metadata"] = self.intervention.cell_metadata()
        return info


def _process_results_after_evaluate() -> None:
    """lm-eval has no results hook, so wrap ``lm_eval.evaluator.evaluate`` (once, idempotent):
    ``simple_evaluate`` builds this model, then calls ``evaluate`` by its module-level name, and
    the wrapper hands the results to the model before lm-eval prints and saves them."""
    import lm_eval.evaluator as ev

    if getattr(ev.evaluate, "_tomh_processes_results", False):
        return
    inner = ev.evaluate

    @functools.wraps(inner)
    def evaluate(*args: Any, **kwargs: Any) -> Any:
        results = inner(*args, **kwargs)
        lm = kwargs.get("lm", args[0] if args else None)
        if isinstance(lm, TomhLM) and results:
            lm.process_results(results)
        return results

    evaluate._tomh_processes_results = True  # type: ignore[attr-defined]
    ev.evaluate = evaluate


def _safe_info(catalog: TaskCatalog, name: str):
    from tom_harness.api.intervention import TaskInfo

    try:
        return catalog.info(name)
    except Exception:  # noqa: BLE001 - a task from lm-eval's own folder: family = its name
        return TaskInfo(name, name)
