"""Replay files (published teacher outputs) as SFT data: the prompt is rendered from the task.

A replay line is ``{"task", "doc", "repeat", "response"}`` (the format of ``--model replay``, read
with its :func:`~tom_harness.backends.replay.read_replay`): the teacher's answer to one document of
a harness task, ``doc`` being the document's key (the task's ``doc_key`` field, else its doc_id). The student is trained on the prompt the harness would give it for that
document (the task's own ``doc_to_text``, as lm-eval renders it, chat messages when asked) and the
teacher's response as the completion; ``doc_hash`` is lm-eval's hash of the document, so the
contamination guard and ``compare`` see the same items.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from tom_harness.api.errors import UsageError


def doc_hash(doc: dict) -> str:
    """lm-eval's per-sample ``doc_hash`` of a document (the key ``compare`` matches items by)."""
    from lm_eval.utils import handle_non_serializable, hash_string

    return hash_string(json.dumps(doc, indent=2, default=handle_non_serializable, ensure_ascii=False))


def renderer(host: Any, data_dir: str | None, chat: bool = False,
             include_path: list[str] = ()) -> Callable[[Path], list[dict]]:
    """A function turning a replay file into export-format lines for :func:`read_data`."""

    def render(path: Path) -> list[dict]:
        from tom_harness.backends.replay import read_replay
        from tom_harness.lmeval.tasks import TaskCatalog

        if data_dir:
            import os

            os.environ["TOM_HARNESS_DATA"] = str(data_dir)
        replay = read_replay(path)  # checks every line (keys, types, duplicates)
        catalog = TaskCatalog.from_sources(host.task_sources, list(include_path))
        catalog.resolve(replay.tasks())
        out = []
        for name in replay.tasks():
            loaded = catalog.manager.load([catalog.load_spec(name)])["tasks"]
            if len(loaded) != 1:
                raise UsageError(f"train: replay task {name!r} is a group; name its subtasks in the replay file")
            task = next(iter(loaded.values()))
            field_name = catalog.metadata(name).get("doc_key")
            docs = {(str(doc[field_name]) if field_name and field_name in doc else str(i)): (i, doc)
                    for i, doc in enumerate(task.eval_docs)}
            for rec in (r for r in replay.records if r.task == name):
                if rec.doc not in docs:
                    raise UsageError(f"train: replay doc {rec.doc!r} is not a document of {name}"
                                     + (f" (keyed by its {field_name!r} field)" if field_name else " (keyed by doc_id)"))
                doc_id, doc = docs[rec.doc]
                prompt = task.doc_to_text(doc)
                if not isinstance(prompt, str):
                    raise UsageError(f"train: task {name} renders a non-text prompt; replay needs a text task")
                record: dict[str, Any] = ({"messages": [{"role": "user", "content": prompt},
                                                        {"role": "assistant", "content": rec.response}]}
                                          if chat else {"prompt": prompt, "completion": rec.response})
                record.update(task=name, doc_id=doc_id, doc_hash=doc_hash(doc), repeat=rec.repeat, row="replay")
                out.append(record)
        return out

    return render
