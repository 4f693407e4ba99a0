"""Replay files (published teacher outputs) as SFT data: the prompt is rendered from the task.

A replay line is ``{"task", "doc", "repeat", "response"}``: the teacher's answer to one document
of a harness task. The student is trained on the prompt the harness would give it for that
document (the task's own ``doc_to_text``, as lm-eval renders it, chat messages when asked) and the
teacher's response as the completion; ``doc_hash`` is lm-eval's hash of the document, so the
contamination guard and ``compare`` see the same items.
"""
from __future__ import annotations

import json
from typing import Any, Callable

from tom_harness.api.errors import UsageError


def doc_hash(doc: dict) -> str:
    """lm-eval's per-sample ``doc_hash`` of a document (the key ``compare`` matches items by)."""
    from lm_eval.utils import handle_non_serializable, hash_string

    return hash_string(json.dumps(doc, indent=2, default=handle_non_serializable, ensure_ascii=False))


def renderer(host: Any, data_dir: str | None, chat: bool = False,
             include_path: list[str] = ()) -> Callable[[list[dict]], list[dict]]:
    """A function turning replay lines into export-format lines for :func:`read_data`."""

    def render(lines: list[dict]) -> list[dict]:
        from tom_harness.lmeval.tasks import TaskCatalog

        if data_dir:
            import os

            os.environ["TOM_HARNESS_DATA"] = str(data_dir)
        catalog = TaskCatalog.from_sources(host.task_sources, list(include_path))
        names = sorted({str(line["task"]) for line in lines})
        catalog.resolve(names)
        tasks = {}
        for name in names:
            loaded = catalog.manager.load([catalog.load_spec(name)])["tasks"]
            if len(loaded) != 1:
                raise UsageError(f"train: replay task {name!r} is a group; name its subtasks in the replay file")
            tasks[name] = next(iter(loaded.values()))
        out = []
        for line in lines:
            task, doc = tasks[str(line["task"])], line["doc"]
            prompt = task.doc_to_text(doc)
            if not isinstance(prompt, str):
                raise UsageError(f"train: task {line['task']} renders a non-text prompt; replay needs a text task")
            record: dict[str, Any] = ({"messages": [{"role": "user", "content": prompt},
                                                    {"role": "assistant", "content": str(line["response"])}]}
                                      if chat else {"prompt": prompt, "completion": str(line["response"])})
            doc_id = line.get("doc_id")
            record.update(task=line["task"], doc_id=doc_id, doc_hash=doc_hash(doc), repeat=line.get("repeat", 0),
                          row="replay")
            out.append(record)
        return out

    return render
