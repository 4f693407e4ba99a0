"""``--executor serial`` (the default): every cell in this process, one model load, rows in order."""
from __future__ import annotations

from typing import Any

from tom_harness.run.plan import Cell


class SerialExecutor:
    """The runner's own loop (:meth:`MatrixRunner._run_cells`): the reference every other
    executor's cells are compared with."""

    name = "serial"

    def run(self, runner: Any, todo: list[Cell], summary: Any) -> None:
        runner._run_cells(todo, summary)
