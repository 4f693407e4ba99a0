"""Per-cell call bookkeeping for prompt interventions (calls per story, per question).

A cell on a task group (e.g. five seed subtasks) calls ``edit_prompts`` once per
subtask, so counts are added up over the cell and ratios recomputed, never overwritten; the
intervention's ``apply`` (run at the start of every cell) clears them.
"""
from __future__ import annotations

from typing import Any


def add_counts(meta: dict[str, Any], **counts: float) -> None:
    for key, value in counts.items():
        meta[key] = meta.get(key, 0) + value


def ratio(meta: dict[str, Any], num: str, den: str) -> float:
    return meta.get(num, 0) / max(meta.get(den, 0), 1)
