"""The lm-eval model type ``tomh``: a base model plus one intervention, inside lm-eval's own CLI.

    tom-harness lm-eval --model tomh \
        --model_args pretrained=smollm2-135m,intervention=grad_mask:m=1e-5;control=random \
        --include_path task_yamls --tasks sparse_tom

Inside ``--model_args`` the intervention's own parameters are separated by ``;`` (lm-eval splits
model_args on commas). A double-quoted value with commas also works on lm-eval >= 0.4.10:
``intervention="grad_mask:m=1e-5,control=random"``. Other keys: ``backend`` (hf|vllm),
``data_dir``, ``cache_dir``, ``plugins`` (``;``-separated module refs); the rest go to the loader.

The model, cache, caller and context are a run session (:func:`~tom_harness.run.session.open_session`)
like ``tom-harness run``'s; lm-eval's ``--apply_chat_template`` and ``--system_instruction`` also
shape the intervention's own model calls, and the results pass through the host's result processors.
"""
from __future__ import annotations

import os
from typing import Any

from lm_eval.api.registry import register_model

from tom_harness.cache.artifacts import ArtifactCache
from tom_harness.data.roots import set_data_dir
from tom_harness.api import values
from tom_harness.api.errors import UsageError
from tom_harness.lmeval.wrapper import InterventionLM
from tom_harness.backends.loading import load
from tom_harness.host.plugin_host import get_host
from tom_harness.lmeval.tasks import TaskCatalog
from tom_harness.run.session import open_session


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
        batch_size = values.check_batch_size(batch_size, "tomh batch_size")
        args = values.model_args({"pretrained": pretrained, **model_args}, "tomh model_args")  # as --model_args
        handle = load(host, backend, args, device, batch_size)
        super().__init__(handle.lm)
        include = [p for p in os.environ.get("TOM_HARNESS_INCLUDE_PATH", "").split(os.pathsep) if p]
        catalog = TaskCatalog.from_sources(host.task_sources, include)
        self.session = open_session(handle, cache=ArtifactCache(cache_dir) if cache_dir else None,
                                    task_info=lambda name: _safe_info(catalog, name), wrapper=self)
        self.intervention = rows[0]
        self.intervention.prepare(self.ctx)
        self.intervention.apply(self.ctx)
        handle.after_edit()
        self.handle = handle
        self.host = host

    def evaluation_starts(self, options: dict) -> None:
        """lm-eval is about to build requests (see ``lmeval.patches``): the intervention's own
        model calls use the same chat template and system instruction, as in ``tom-harness run``."""
        self.session.render_like(options["apply_chat_template"], options["system_instruction"])

    def evaluation_ends(self, results: dict) -> None:
        self.process_results(results)

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


def _safe_info(catalog: TaskCatalog, name: str):
    from tom_harness.api.intervention import TaskInfo

    try:
        return catalog.info(name)
    except Exception:  # noqa: BLE001 - a task from lm-eval's own folder: family = its name
        return TaskInfo(name, name)
