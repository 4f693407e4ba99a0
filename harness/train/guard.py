"""The contamination guard: an adapter must not be evaluated on the items it was trained on.

Training items are keyed by (task, doc_id, doc_hash) (lm-eval's document hash, carried by
``export``). Both ends check them: ``train --eval_tasks`` before training (groups expanded to their
subtasks), and the ``adapter`` row at run time against the card's keys, so an adapter trained on
``tomi_gen`` is refused on ``tomi_gen`` unless overlap is allowed explicitly. Light on imports:
the adapter plugin uses it at plan time.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

from tom_harness.api.errors import UsageError

CARD = "adapter_card.json"


def overlap(keys: Iterable[dict], tasks: Iterable[str]) -> dict[str, list]:
    """task -> the doc ids (or document hashes, for replay lines without ids) of training items
    that belong to one of ``tasks``."""
    wanted = set(tasks)
    found: dict[str, list] = {}
    for key in keys:
        if key.get("task") in wanted:
            doc = key.get("doc_id")
            found.setdefault(str(key["task"]), []).append(doc if doc is not None else str(key.get("doc_hash"))[:12])
    return found


def describe(found: dict[str, list]) -> str:
    """``tomi_gen (12 items: doc 0, 1, 2, ...)`` for each overlapping task."""
    parts = []
    for task, ids in sorted(found.items()):
        shown = ", ".join(str(i) for i in ids[:5]) + (", ..." if len(ids) > 5 else "")
        parts.append(f"{task} ({len(ids)} items: doc {shown})")
    return "; ".join(parts)


def refuse_overlap(keys: Iterable[dict], tasks: Iterable[str], where: str, bypass: str) -> None:
    """Raise a UsageError naming the overlap between training ``keys`` and ``tasks``, if any."""
    found = overlap(keys, tasks)
    if found:
        raise UsageError(f"{where}: the adapter's training data holds items of the evaluated task(s) "
                         f"{describe(found)}; scores there measure memory, not transfer. "
                         f"Evaluate on other tasks, or {bypass} to do it anyway")


def card_keys(folder: Path) -> list[dict] | None:
    """The training-item keys in an adapter folder's card, or None for adapters trained elsewhere."""
    path = Path(folder) / CARD
    if not path.is_file():
        return None
    return list(json.loads(path.read_text(encoding="utf-8")).get("data", {}).get("items", []))
