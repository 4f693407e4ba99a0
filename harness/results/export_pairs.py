"""``tom-harness export --pairs``: preference pairs (DPO) from a run that sampled each prompt N times.

Under ``--repeats N`` with sampling, one prompt gets N answers; some are right and some wrong.
A pair is one preferred and one rejected answer to the same prompt:

* preferred = scored correct by the task, rejected = scored incorrect (default); or, with
  ``--teacher ROW``, preferred = the parsed answer equals the teacher row's answer to the same
  document (the per-item answer ``compare`` uses), rejected = it differs (Lore-style distillation
  without gold labels);
* answers are deduplicated by text and paired in the order they were sampled, each answer in at
  most one pair, so a prompt with 3 good and 5 bad answers gives 3 pairs and no answer is weighted
  twice.

Each line is ``{"prompt", "chosen", "rejected"}`` (TRL's preference format; with a chat template,
``prompt`` is the message list and ``chosen``/``rejected`` one assistant message each) plus the
provenance fields of :func:`tom_harness.results.export.provenance`.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Iterable

from tom_harness.api.errors import UsageError
from tom_harness.results.items import items_of, parsed_answer


def teacher_answers(cells: list[dict]) -> dict[tuple[str, str], str]:
    """(task, document hash) -> the teacher row's parsed answer, from its items files (matched by
    the document's hash, so subtasks of a group and reordered documents pair up correctly)."""
    found: dict[tuple[str, str], str] = {}
    for cell in cells:
        items = items_of(cell)
        if items is None:
            raise UsageError(f"export --teacher: the cell {cell['intervention']['label']} x {cell['task']} has no items file")
        for doc_hash, answer in items.answers().values():
            found[(cell["task"], doc_hash)] = answer
    return found


def split(found: list[dict], preferred: Callable[[dict], bool | None]) -> list[tuple[dict, dict]]:
    """Pair preferred with rejected answers (deduplicated by text, in sampling order)."""
    good: dict[str, dict] = {}
    bad: dict[str, dict] = {}
    for ans in found:
        verdict = preferred(ans)
        if verdict is None:
            continue
        (good if verdict else bad).setdefault(ans["completion"], ans)
    return list(zip(good.values(), bad.values()))


def pair_lines(entries: Iterable[tuple[dict, dict, list[dict], dict]], splitter: Any,
               reference: dict[tuple[str, str], str] | None) -> list[str]:
    """The JSONL lines of every pair; ``entries`` are (cell, sample, its answers, provenance),
    ``reference`` the teacher's answers (:func:`teacher_answers`) or None to pair by correctness."""
    lines: list[str] = []
    for cell, sample, found, prov in entries:
        doc = sample.get("doc") or {}
        if reference is not None:
            target = reference.get((cell["task"], str(sample.get("doc_hash", ""))[:16]))
            if target is None:
                continue

            def preferred(ans: dict, target: str = target, doc: dict = doc) -> bool:
                return parsed_answer(doc, ans["completion"]) == target
        else:
            def preferred(ans: dict) -> bool | None:
                return ans["correct"]
        for good, bad in split(found, preferred):
            record: dict[str, Any] = _pair(splitter, good["prompt"], good["completion"], bad["completion"])
            record.update(prov, repeats=[good["repeat"], bad["repeat"]])
            lines.append(json.dumps(record, ensure_ascii=False))
    return lines


def _pair(splitter: Any, prompt: str, chosen: str, rejected: str) -> dict[str, Any]:
    if splitter is None:
        return {"prompt": prompt, "chosen": chosen, "rejected": rejected}
    messages = splitter.messages(prompt, "")[:-1]
    return {"prompt": messages, "chosen": [{"role": "assistant", "content": chosen}],
            "rejected": [{"role": "assistant", "content": rejected}]}
