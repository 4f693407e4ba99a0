"""``tom-harness publish OUT --to wandb|mlflow|hub``: a finished run's cells, one tracked run per row.

Read from the cell files alone (like ``tom-harness table``), so a run can be published later, from
another machine, or after merging shards. A row's ok cells are merged into one lm-eval results
dict (``results``, ``configs``, ``versions``, ``n-shot``... over its tasks), which is what each
tracker takes:

* ``wandb``: lm-eval's own ``WandbLogger`` (metrics, the results table and the results artifact
  as ``lm-eval --wandb_args`` logs them), one W&B run per row, grouped by the output folder;
  ``WANDB_MODE=offline`` keeps it on disk.
* ``mlflow``: one MLflow run per row in one experiment: the row's parameters and the matrix's
  settings as params, every numeric metric as ``<task>/<metric>[/<filter>]``, the merged results
  as ``results.json``. A ``file:`` store needs MLflow's opt-in, which ``publish`` gives.
* ``hub``: a dataset repository on the Hugging Face Hub holding ``<row id>/results.json`` per row
  and ``manifest.json``, uploaded with ``huggingface_hub.HfApi`` (lm-eval's ``EvaluationTracker``
  names files by model and date only and turns upload failures into log lines; a publish
  must fail loudly).
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from tom_harness.api.errors import UsageError, unknown
from tom_harness.results.outdir import OutputDir, iter_cells

TARGETS = ("wandb", "mlflow", "hub")
_MERGED = ("results", "groups", "group_subtasks", "configs", "versions", "n-shot", "higher_is_better", "n-samples")


@dataclass
class RowRun:
    """One intervention row of a finished run: what a tracker records as one run."""

    iv_id: str
    label: str
    intervention: dict
    tasks: list[str] = field(default_factory=list)
    not_applicable: list[str] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)  # the row's cells merged into one lm-eval results dict

    def metrics(self) -> dict[str, float]:
        """Every numeric metric as ``<task>/<metric>`` (``/<filter>`` unless the filter is ``none``)."""
        out: dict[str, float] = {}
        for task, values in (self.results.get("results") or {}).items():
            for key, value in values.items():
                if not isinstance(value, (int, float)) or isinstance(value, bool) or key in ("sample_len",):
                    continue
                metric, _, filt = key.partition(",")
                name = f"{task}/{metric}" + (f"/{filt}" if filt and filt != "none" else "")
                out[re.sub(r"[^A-Za-z0-9_\-./ ]", "_", name)] = float(value)
        return out

    def params(self, manifest: dict) -> dict[str, Any]:
        """The row's own parameters (``iv.<name>``) and the matrix settings that shape its numbers."""
        spec = manifest.get("spec") or {}
        out = {f"iv.{k}": v for k, v in (self.intervention.get("params") or {}).items()}
        out.update({"intervention": self.intervention.get("name"), "row": self.label, "kind": self.intervention.get("kind")})
        for key in ("model", "limit", "seed", "num_fewshot", "apply_chat_template", "repeats"):
            if key in spec:
                out[key] = spec[key]
        out["model_args"] = json.dumps(spec.get("model_args", {}), sort_keys=True)
        out["gen_kwargs"] = json.dumps(spec.get("gen_kwargs", {}), sort_keys=True)
        out["tasks"] = ",".join(self.tasks)
        return out


def row_runs(out: Path, rows: list[str] | None = None) -> tuple[dict, list[RowRun]]:
    """The manifest and the rows (table order) of output dir ``out``; ``rows`` picks labels or ids."""
    manifest = OutputDir(out).read_manifest()
    if manifest is None:
        raise UsageError(f"publish: {out} has no manifest.json; is it the --output_path of a `tom-harness run`?")
    by_id: dict[str, RowRun] = {}
    for cell in sorted(iter_cells([out]), key=lambda c: (c["intervention"].get("row", 0), c["task"])):
        iv = cell["intervention"]
        run = by_id.setdefault(iv["id"], RowRun(iv["id"], iv["label"], iv))
        if cell["status"] != "ok":
            run.not_applicable.append(cell["task"])
            continue
        run.tasks.append(cell["task"])
        _merge(run.results, cell["results"] or {})
    if rows:
        missing = [r for r in rows if not any(r in (x.label, x.iv_id) for x in by_id.values())]
        if missing:
            raise unknown("--rows row", missing[0], [x.label for x in by_id.values()])
        by_id = {k: v for k, v in by_id.items() if v.label in rows or v.iv_id in rows}
    if not by_id:
        raise UsageError(f"publish: {out} holds no cells yet")
    return manifest, list(by_id.values())


def _merge(into: dict, results: dict) -> None:
    for key in _MERGED:
        into.setdefault(key, {}).update(results.get(key) or {})
    for key, value in results.items():
        if key not in _MERGED:
            into.setdefault(key, value)  # config, versions of lm-eval, tokens: the first cell's


def _run_name(manifest: dict, out: Path) -> str:
    return f"{Path(out).resolve().name}-{str(manifest.get('spec_hash', ''))[:8]}".rstrip("-")


def to_wandb(out: Path, manifest: dict, runs: list[RowRun], project: str, entity: str | None = None) -> list[str]:
    """One W&B run per row through lm-eval's ``WandbLogger``; returns the run ids."""
    try:
        import wandb
        from lm_eval.loggers import WandbLogger
    except ImportError:
        raise UsageError("publish --to wandb needs wandb: pip install 'tom-harness[publish]'") from None
    ids = []
    for run in runs:
        init = {"project": project, "name": run.label, "group": _run_name(manifest, out), "job_type": "tom-harness",
                "config": run.params(manifest), "tags": [run.intervention.get("name", "")],
                "dir": os.environ.get("WANDB_DIR") or str(Path(out).resolve())}
        if entity:
            init["entity"] = entity
        logger = WandbLogger(init_args=init)
        logger.post_init(run.results)
        logger.log_eval_result()
        logger.run.summary.update({"not_applicable": ",".join(run.not_applicable)})
        ids.append(logger.run.id)
        wandb.finish()
    return ids


def to_mlflow(out: Path, manifest: dict, runs: list[RowRun], experiment: str, tracking_uri: str | None = None) -> list[str]:
    """One MLflow run per row in ``experiment``; returns the run ids."""
    try:
        import mlflow
    except ImportError:
        raise UsageError("publish --to mlflow needs mlflow: pip install 'tom-harness[publish]'") from None
    uri = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI")
    if uri and uri.startswith("file:"):  # MLflow 3 asks for an explicit opt-in to its file store
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    if uri:
        mlflow.set_tracking_uri(uri)
    mlflow.set_experiment(experiment)
    ids = []
    for run in runs:
        tags = {"tom_harness.row": run.label, "tom_harness.row_id": run.iv_id, "tom_harness.output": str(Path(out).resolve()),
                "tom_harness.spec_hash": str(manifest.get("spec_hash", "")),
                "tom_harness.model_fingerprint": str(manifest.get("model_fingerprint", "")),
                "tom_harness.not_applicable": ",".join(run.not_applicable)}
        with mlflow.start_run(run_name=run.label, tags=tags) as active:
            mlflow.log_params({k: str(v)[:6000] for k, v in run.params(manifest).items()})
            mlflow.log_metrics(run.metrics())
            mlflow.log_dict(json.loads(json.dumps(run.results, default=str)), "results.json")
            ids.append(active.info.run_id)
    return ids


def to_hub(out: Path, manifest: dict, runs: list[RowRun], repo_id: str, private: bool = True,
           api_factory: Callable[[], Any] | None = None) -> list[str]:
    """``<row id>/results.json`` per row (and ``manifest.json``) in the dataset repo ``repo_id``;
    returns the paths written in the repo."""
    if not repo_id or "/" not in repo_id:
        raise UsageError(f"publish --to hub: --repo_id must be owner/name, got {repo_id!r}")
    from huggingface_hub import CommitOperationAdd, HfApi

    api = (api_factory or HfApi)()
    api.create_repo(repo_id=repo_id, repo_type="dataset", private=private, exist_ok=True)
    prefix = _run_name(manifest, out)
    files = {f"{prefix}/manifest.json": manifest}
    for run in runs:
        files[f"{prefix}/{run.iv_id}/results.json"] = {"row": run.label, "params": run.params(manifest),
                                                        "metrics": run.metrics(), "results": run.results}
    ops = [CommitOperationAdd(path_in_repo=p, path_or_fileobj=json.dumps(v, indent=1, default=str).encode())
           for p, v in files.items()]
    api.create_commit(repo_id=repo_id, repo_type="dataset", operations=ops,
                      commit_message=f"tom-harness: {len(runs)} row(s) of {prefix}")
    return list(files)


def publish(out: Path, to: str, *, rows: list[str] | None = None, project: str = "tom-harness",
            entity: str | None = None, tracking_uri: str | None = None, repo_id: str | None = None,
            public: bool = False) -> list[str]:
    """Send the rows of ``out`` to tracker ``to``; returns one id or path per row (hub: per file)."""
    if to not in TARGETS:
        raise unknown("--to target", to, TARGETS)
    manifest, runs = row_runs(Path(out), rows)
    if to == "wandb":
        return to_wandb(Path(out), manifest, runs, project, entity)
    if to == "mlflow":
        return to_mlflow(Path(out), manifest, runs, project, tracking_uri)
    return to_hub(Path(out), manifest, runs, repo_id or "", private=not public)
