"""``train_adapter``: data -> guard -> base model -> cache lookup -> TRL -> card -> output folder.

The adapter's cache key is the content hash of (method, base-model fingerprint, data sha256,
recipe, library versions): the same inputs give the cached adapter back without training. Entries
live in ``<cache root>/adapters/<key>/`` and are assembled under a temporary name, then renamed,
so a crash never leaves half an adapter; checkpoints live in ``.work-<key>/`` until training ends,
and a rerun after a kill resumes from them.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tom_harness.api.errors import UsageError
from tom_harness.cache.artifacts import ArtifactCache, content_key
from tom_harness.train.card import versions, write_card
from tom_harness.train.data import TrainData
from tom_harness.api.training import ADAPTER_CARD, refuse_overlap
from tom_harness.train.recipe import Recipe

WEIGHTS = ("adapter_config.json", "adapter_model.safetensors")


@dataclass
class Outcome:
    folder: Path
    key: str
    cache_hit: bool
    card: dict[str, Any]


def expand_tasks(host: Any, tasks: list[str], include_path: list[str]) -> list[str]:
    """The tasks and every subtask of the groups among them (checked against the catalog)."""
    from tom_harness.lmeval.tasks import TaskCatalog

    catalog = TaskCatalog.from_sources(host.task_sources, include_path)
    catalog.resolve(tasks)
    out = list(tasks)
    for name in tasks:
        out += [s for s in catalog.info(name).subtasks if s not in out]
    return out


def check_output(output: Path, key: str, overwrite: bool) -> None:
    """An existing --output must be empty, this very adapter, or replaced with --overwrite."""
    if not output.exists() or overwrite:
        return
    if not output.is_dir():
        raise UsageError(f"train: --output {output} is a file, not a folder")
    card = output / ADAPTER_CARD
    same = card.is_file() and json.loads(card.read_text(encoding="utf-8")).get("key") == key
    if any(output.iterdir()) and not same:
        raise UsageError(f"train: --output {output} already holds something else; choose another folder or pass --overwrite")


def _complete(folder: Path) -> bool:
    return all((folder / f).is_file() for f in (*WEIGHTS, ADAPTER_CARD))


def place(src: Path, output: Path) -> None:
    """Copy the cached adapter to ``output`` (atomically: a sibling temp folder, then rename)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{output.name}.", dir=output.parent))
    shutil.rmtree(tmp)
    shutil.copytree(src, tmp)
    if output.exists():
        shutil.rmtree(output)
    os.rename(tmp, output)


def adapter_key(method: str, fingerprint: str, data: TrainData, recipe: Recipe) -> str:
    return content_key("lora-adapter", method, fingerprint, data.sha256, recipe.to_dict(), versions())


def train_adapter(host: Any, data: TrainData, recipe: Recipe, output: Path, *, backend: str, model_args: dict,
                  eval_tasks: list[str], allow_overlap: bool, include_path: list[str], cache_dir: str | None, retrain: bool,
                  overwrite: bool, show_progress: bool) -> Outcome:
    """Train (or fetch from the cache) the adapter and place it in ``output``."""
    from tom_harness.backends.loading import load

    if eval_tasks and not allow_overlap:
        refuse_overlap(data.keys, expand_tasks(host, eval_tasks, include_path), "train", "pass --allow_overlap")
    handle = load(host, backend, model_args)
    if handle.model is None:
        raise UsageError(f"train: backend {backend!r} exposes no model to train; use --model hf")
    key = adapter_key(recipe.method, handle.fingerprint, data, recipe)
    check_output(output, key, overwrite)
    cache = ArtifactCache(cache_dir)
    final = cache.path_for("adapters", key)
    hit = _complete(final) and not retrain
    if not hit:
        _train_into(final, key, handle, data, recipe, show_progress)
    place(final, output)
    return Outcome(output, key, hit, json.loads((output / ADAPTER_CARD).read_text(encoding="utf-8")))


def _train_into(final: Path, key: str, handle: Any, data: TrainData, recipe: Recipe, show_progress: bool) -> None:
    from tom_harness.train.trainer import train

    work = final.parent / f".work-{key[:16]}"
    result = train(handle.model, handle.tokenizer, data, recipe, work, show_progress)
    tmp = Path(tempfile.mkdtemp(prefix=f".{key[:12]}.", dir=final.parent))
    try:
        result.peft_model.save_pretrained(str(tmp))
        card = {
            "key": key,
            "base": {"name": handle.name, "backend": handle.backend, "fingerprint": handle.fingerprint,
                     "model_args": {k: str(v) for k, v in handle.model_args.items()}},
            "data": data.card(),
            "recipe": recipe.to_dict(),
            "training": {"steps": result.steps, "wall_s": round(result.wall_s, 2), "cpu_s": round(result.cpu_s, 2),
                         "device": str(next(handle.model.parameters()).device), "resumed_from": result.resumed_from,
                         "threads": _threads()},
            "versions": versions(),
        }
        write_card(tmp, card, result.log_history)
        if final.exists():  # --retrain replaces the entry
            shutil.rmtree(final)
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(work, ignore_errors=True)


def _threads() -> int:
    import torch

    return torch.get_num_threads()
