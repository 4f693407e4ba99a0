"""The task catalogue: plugin task sources + ``--include_path`` folders, over one TaskManager.

lm-eval's own task folder (~15k names, several seconds to index) is only indexed when a
requested name is not found among the harness's sources, or for ``tom-harness list --all``.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import UsageError, unknown
from .interventions import TaskInfo

log = logging.getLogger("tom_harness")


@dataclass
class TaskCatalog:
    folders: list[Path]
    dict_configs: dict[str, dict] = field(default_factory=dict)
    with_defaults: bool = False
    _tm: Any = None
    _info: dict[str, TaskInfo] = field(default_factory=dict)
    _meta: dict[str, dict] = field(default_factory=dict)

    @classmethod
    def from_sources(cls, sources: list[Any], include_path: list[str] = ()) -> "TaskCatalog":
        folders, dicts = [], {}
        for src in sources:
            if isinstance(src, dict):
                if "task" not in src:
                    raise UsageError(f"a plugin registered a task config without a 'task' name: {src!r}")
                dicts[str(src["task"])] = src
            else:
                folders.append(Path(src))
        for p in include_path:
            path = Path(p).expanduser()
            if not path.exists():
                raise UsageError(f"--include_path: no such folder {path}")
            folders.append(path.resolve())
        return cls(folders, dicts)

    @property
    def manager(self) -> Any:
        if self._tm is None:
            from lm_eval.tasks import TaskManager

            self._tm = TaskManager(include_path=[str(f) for f in self.folders] or None, include_defaults=self.with_defaults)
        return self._tm

    def names(self) -> list[str]:
        return sorted(set(self.manager.all_tasks) | set(self.dict_configs))

    def resolve(self, requested: list[str]) -> None:
        """Check every name exists; index lm-eval's own tasks only if needed."""
        missing = [t for t in requested if t not in self.names()]
        if missing and not self.with_defaults:
            self.with_defaults, self._tm = True, None
            missing = [t for t in requested if t not in self.names()]
        if missing:
            raise unknown("task", missing[0], self.names())

    def load_spec(self, name: str) -> Any:
        """What to hand ``simple_evaluate(tasks=[...])`` for ``name``."""
        return self.dict_configs.get(name, name)

    def info(self, name: str) -> TaskInfo:
        """Family, request types and subtasks of a task or group (loads it once)."""
        if name in self._info:
            return self._info[name]
        loaded = self.manager.load([self.load_spec(name)])
        families, types = set(), set()
        merged: dict = {}
        for task in loaded["tasks"].values():
            meta = task.config.metadata or {}
            merged.update(meta)
            families.add(str(meta.get("family", task.config.task)))
            types.add(str(task.config.output_type))
        subtasks = tuple(sorted(loaded["tasks"]))
        family = families.pop() if len(families) == 1 else name
        info = TaskInfo(name=name, family=family, output_types=tuple(sorted(types)), subtasks=subtasks)
        self._info[name] = info
        self._meta[name] = merged
        for sub in subtasks:  # subtasks inherit the family for request-time lookups
            self._info.setdefault(sub, TaskInfo(sub, family, info.output_types, ()))
        return info

    def metadata(self, name: str) -> dict:
        """The task's (and its subtasks') YAML ``metadata``, merged."""
        self.info(name)
        return self._meta.get(name, {})
