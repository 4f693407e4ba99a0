"""The artifact cache's memory tier: values kept in this process, and where each get came from.

One :data:`MEMORY` is shared by every :class:`tom_harness.cache.artifacts.ArtifactCache` of the process,
so rows of a sweep compute or read an artifact once. It is bounded in bytes
(``$TOM_HARNESS_CACHE_MEMORY`` GB, default 4), least recently used out first; pinned values
(loaded models, pipelines) stay.
"""
from __future__ import annotations

import dataclasses
import os
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable

import torch

from tom_harness.api.errors import UsageError

SOURCES = ("memory", "disk", "computed")


def _nbytes(value: Any) -> int:
    """Rough size of a cached value in bytes: tensors exactly (also inside dicts, lists, dataclasses
    and modules), JSON-like values by their text length."""
    if isinstance(value, torch.Tensor):
        return value.numel() * value.element_size()
    if isinstance(value, torch.nn.Module):
        return sum(_nbytes(t) for t in value.state_dict().values())
    if isinstance(value, dict):
        return sum(_nbytes(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(_nbytes(v) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return sum(_nbytes(getattr(value, f.name)) for f in dataclasses.fields(value))
    if isinstance(value, (str, int, float, bool, type(None))):
        return len(str(value)) + 16
    return 64  # an opaque object (e.g. a pipeline): counted, not measured


class MemoryTier:
    """Values kept in this process, least recently used evicted first, within ``max_bytes``
    (a larger value is returned but not kept). Pinned values (loaded models and pipelines) are
    never evicted and not counted."""

    def __init__(self, max_bytes: int | None = None) -> None:
        self._max_bytes = max_bytes
        self._items: OrderedDict[tuple, tuple[Any, int]] = OrderedDict()
        self._pinned: dict[tuple, Any] = {}
        self.nbytes = 0

    @property
    def max_bytes(self) -> int:
        """The bound given, else ``$TOM_HARNESS_CACHE_MEMORY`` (read when first needed)."""
        if self._max_bytes is None:
            self._max_bytes = default_memory_bytes()
        return self._max_bytes

    def get(self, key: tuple) -> tuple[bool, Any]:
        if key in self._pinned:
            return True, self._pinned[key]
        if key not in self._items:
            return False, None
        self._items.move_to_end(key)
        return True, self._items[key][0]

    def put(self, key: tuple, value: Any, pin: bool = False) -> None:
        if pin:
            self._pinned[key] = value
            return
        size = _nbytes(value)
        if key in self._items:
            self.nbytes -= self._items.pop(key)[1]
        if size > self.max_bytes:
            return
        self._items[key] = (value, size)
        self.nbytes += size
        while self.nbytes > self.max_bytes:
            _, (_, dropped) = self._items.popitem(last=False)
            self.nbytes -= dropped

    def clear(self) -> None:
        """Forget everything (tests use this to stand for a new process)."""
        self._items.clear()
        self._pinned.clear()
        self.nbytes = 0

    def __len__(self) -> int:
        return len(self._items) + len(self._pinned)


def default_memory_bytes() -> int:
    """``$TOM_HARNESS_CACHE_MEMORY`` GB (default 4; 0 keeps nothing but pinned values)."""
    raw = os.environ.get("TOM_HARNESS_CACHE_MEMORY", "4")
    try:
        return int(float(raw) * (1 << 30))
    except ValueError:
        raise UsageError(f"TOM_HARNESS_CACHE_MEMORY: expected a number of GB, got {raw!r}") from None


#: the memory tier every :class:`ArtifactCache` of this process shares (unless given its own)
MEMORY = MemoryTier()


def clear_memory() -> None:
    MEMORY.clear()


def remember(kind: str, key: str, compute: Callable[[], Any], pin: bool = False,
             memory: MemoryTier | None = None) -> "Fetched":
    """Memory tier only, for what cannot go to disk (activations; with ``pin``, a loaded model or
    pipeline, never evicted): ``compute()`` once per process and key; ``.source`` is ``memory``
    or ``computed``."""
    t0 = time.perf_counter()
    memory = MEMORY if memory is None else memory
    found, value = memory.get(("memory", kind, key))
    if not found:
        value = compute()
        memory.put(("memory", kind, key), value, pin=pin)
    return Fetched(value, "memory" if found else "computed", kind, key, time.perf_counter() - t0)


@dataclass
class Fetched:
    """One get: the value, and where it came from (``memory``, ``disk`` or ``computed``)."""

    value: Any
    source: str
    kind: str
    key: str
    seconds: float = 0.0

    def record(self) -> dict[str, Any]:
        """What a cell's metadata keeps of this get."""
        return {"kind": self.kind, "key": self.key, "source": self.source, "seconds": round(self.seconds, 3)}
