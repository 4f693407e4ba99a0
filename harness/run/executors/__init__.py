"""Where a matrix's cells run: ``serial`` (this process) or ``ray`` (actors on a Ray cluster).

An executor has ``run(runner, todo, summary)``: the runner has planned the cells, written the n/a
ones and holds the output lock; the executor evaluates ``todo`` and hands every finished cell to
``runner.emit`` (the one writer). See docs/scale-out.md.
"""
from __future__ import annotations

from typing import Any

from tom_harness.api.errors import unknown

EXECUTORS = ("serial", "ray")


def make_executor(name: str, **options: Any) -> Any:
    """The executor called ``name``; ``options`` are the Ray flags (ignored by ``serial``)."""
    if name == "serial":
        from tom_harness.run.executors.serial import SerialExecutor

        return SerialExecutor()
    if name == "ray":
        from tom_harness.run.executors.ray_executor import RayExecutor, RayOptions

        return RayExecutor(RayOptions(**{k: v for k, v in options.items() if v is not None}))
    raise unknown("--executor", name, EXECUTORS)
