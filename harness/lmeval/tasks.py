"""The task catalogue: plugin task sources + ``--include_path`` folders, over one TaskManager.

lm-eval's own task folder (~15k names, several seconds to index) is only indexed when a
requested name is not found among the harness's sources, or for ``tom-harness list --all``.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tom_harness.api.errors import UsageError, unknown
from tom_harness.api.intervention import TaskInfo
from tom_harness.api.traits import check_declared

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
        """Family, request types, subtasks and traits of a task or group (loads it once).

        Traits come from each leaf task's YAML ``metadata``; a group carries the traits all its
        subtasks agree on, and each subtask gets its own (so request-time checks see them)."""
        if name in self._info:
            return self._info[name]
        loaded = self.manager.load([self.load_spec(name)])
        per_task: dict[str, tuple[dict, str]] = {}
        for task in loaded["tasks"].values():
            meta = {k: v for k, v in (task.config.metadata or {}).items() if k != "version"}
            problems = check_declared(str(task.config.task), meta)
            if problems:
                raise UsageError("; ".join(problems) + " (see docs/tasks.md, 'Traits')")
            per_task[str(task.config.task)] = (meta, str(task.config.output_type))
        metas = [m for m, _ in per_task.values()]
        merged: dict = {}
        for meta in metas:
            merged.update(meta)
        shared = {k: v for k, v in metas[0].items() if all(k in m and m[k] == v for m in metas[1:])} if metas else {}
        families = {str(m.get("family", t)) for t, (m, _) in per_task.items()}
        types = tuple(sorted({ot for _, ot in per_task.values()}))
        family = families.pop() if len(families) == 1 else name
        info = TaskInfo(name=name, family=family, output_types=types, subtasks=tuple(sorted(per_task)),
                        traits=shared)
        self._info[name] = info
        self._meta[name] = merged
        for sub, (meta, otype) in per_task.items():  # request-time lookups see each subtask's own traits
            self._info.setdefault(sub, TaskInfo(sub, str(meta.get("family", family)), (otype,), (), meta))
            self._meta.setdefault(sub, meta)
        return info

    def metadata(self, name: str) -> dict:
        """The task's (and its subtasks') YAML ``metadata``, merged."""
        self.info(name)
        return self._meta.get(name, {})


def info_from_yaml(path: str | Path) -> TaskInfo:
    """TaskInfo of one task YAML (``include:`` followed) without loading its data: for scripts
    and tests that call an intervention's ``edit_prompts`` directly."""
    from lm_eval.tasks._yaml_loader import load_yaml

    cfg = load_yaml(Path(path), resolve_func=False)
    meta = {k: v for k, v in (cfg.get("metadata") or {}).items() if k != "version"}
    name = str(cfg.get("task", Path(path).stem))
    return TaskInfo(name, str(meta.get("family", name)), (str(cfg.get("output_type", "generate_until")),), (), meta)
