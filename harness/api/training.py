"""The adapter card's contract between ``tom-harness train`` (which writes it) and the ``adapter``
row (which reads it): an adapter must not be evaluated on the items it was trained on.

``train`` lists every training item in ``adapter_card.json`` under ``data.items`` as
``{"task", "doc_id", "doc_hash"}`` (lm-eval's document hash). Both ends refuse an overlap through
:func:`refuse_overlap`: ``train --eval_tasks`` before training, and the adapter row at plan time
against its card (a task of the matrix, or a subtask of a group in it, among the training tasks),
each with its own way to allow it on purpose.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

from tom_harness.api.errors import UsageError

ADAPTER_CARD = "adapter_card.json"


def training_items(folder: str | Path) -> list[dict] | None:
    """The training-item keys of an adapter folder's card, or None (an adapter trained elsewhere)."""
    path = Path(folder) / ADAPTER_CARD
    if not path.is_file():
        return None
    return list(json.loads(path.read_text(encoding="utf-8")).get("data", {}).get("items", []))


def _overlap(items: Iterable[dict], tasks: Iterable[str]) -> dict[str, list]:
    """task -> the doc ids (document hashes for lines without ids) of the items in ``tasks``."""
    wanted = set(tasks)
    found: dict[str, list] = {}
    for key in items:
        if key.get("task") in wanted:
            doc = key.get("doc_id")
            found.setdefault(str(key["task"]), []).append(doc if doc is not None else str(key.get("doc_hash"))[:12])
    return found


def refuse_overlap(items: Iterable[dict], tasks: Iterable[str], where: str, bypass: str) -> None:
    """Raise a UsageError naming every task of ``tasks`` that training ``items`` belong to, with
    its documents (``tomi_gen (12 items: doc 0, 1, 2, 3, 4, ...)``) and ``bypass``, the way to do
    it anyway; return quietly when there is no overlap."""
    found = _overlap(items, tasks)
    if not found:
        return
    parts = []
    for task, ids in sorted(found.items()):
        shown = ", ".join(str(i) for i in ids[:5]) + (", ..." if len(ids) > 5 else "")
        parts.append(f"{task} ({len(ids)} items: doc {shown})")
    raise UsageError(f"{where}: the adapter's training data holds items of the evaluated task(s) "
                     f"{'; '.join(parts)}; scores there measure memory, not transfer. "
                     f"Evaluate on other tasks, or {bypass} to do it anyway")
