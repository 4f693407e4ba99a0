"""One executor worker: a process that loads the model once and evaluates the cells it is handed.

The worker rebuilds the run's pieces from a picklable :class:`WorkerJob` (plugins, the matrix
spec, the environment), loads the model through the same runner code as a serial run, and runs
cells through :meth:`MatrixRunner._evaluate`, so a worker's cell is the serial run's cell. It never
writes a cell file: each finished cell is returned to the driver, the one writer
(:meth:`MatrixRunner.emit`). A row's ``prepare`` runs once per worker, on the row's first cell.

Nothing here imports Ray: the Ray executor wraps this class in an actor, and tests can drive it
in-process.
"""
from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tom_harness.run.cell_record import version_info
from tom_harness.run.runner import MatrixRunner
from tom_harness.run.plan import Cell, expand_interventions

#: environment variables a worker takes over from the driver (data roots, caches, offline mode)
FORWARDED_ENV = ("TOM_HARNESS_", "HF_", "TRANSFORMERS_", "TOKENIZERS_", "VLLM_")


@dataclass
class WorkerJob:
    """What a worker needs to rebuild the driver's run: all of it picklable."""

    spec: Any  # MatrixSpec
    output: str
    cache_dir: str
    max_rows: int
    env: dict[str, str] = field(default_factory=dict)
    torch_threads: int | None = None
    verbose: bool = False  # the driver's --verbose: lm-eval's bars and repeated notes in the workers too

    @staticmethod
    def driver_env(extra: dict[str, str] | None = None) -> dict[str, str]:
        """The driver's variables a worker needs (``FORWARDED_ENV`` prefixes), plus ``extra``."""
        env = {k: v for k, v in os.environ.items() if k.startswith(FORWARDED_ENV)}
        return {**env, **(extra or {})}


class _Collecting(MatrixRunner):
    """A runner whose finished cells go back to the driver instead of into files."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.outbox: list[dict] = []

    def emit(self, cell: dict, samples: dict | None = None) -> None:
        self.outbox.append({"cell": cell, "samples": samples})


class CellWorker:
    """Loads the model once (in ``__init__``), then evaluates one cell per :meth:`run_cell`."""

    def __init__(self, job: WorkerJob, name: str = "worker") -> None:
        os.environ.update(job.env)
        _quiet(job.verbose)
        if job.torch_threads:
            import torch

            torch.set_num_threads(job.torch_threads)
        from tom_harness.cache.artifacts import ArtifactCache
        from tom_harness.host.plugin_host import get_host

        self.name = name
        host = get_host(job.spec.plugins)
        self.runner = _Collecting(job.spec, host, Path(job.output), progress=False,
                                  cache=ArtifactCache(job.cache_dir), max_rows=job.max_rows)
        rows = expand_interventions(host, job.spec.interventions, job.max_rows)
        self.rows = {self._iv_id(iv): (row, iv) for row, iv in enumerate(rows)}
        self.runner.catalog.resolve(job.spec.tasks)
        t0 = time.time()
        self.ctx, self.wrapper, self.baseline = self.runner._start([])
        self.load_s = time.time() - t0
        self.loads = 1  # this process never loads the model again
        self.prepared: dict[str, float] = {}
        self.cells_run, self.busy_s = 0, 0.0

    @staticmethod
    def _iv_id(iv: Any) -> str:
        from tom_harness.results.outdir import intervention_id

        return intervention_id(iv.label())

    def identity(self) -> dict[str, Any]:
        """Who this worker is, for the driver's checks and for every cell it writes."""
        handle = self.ctx.handle
        return {
            "worker": self.name, "host": socket.gethostname(), "pid": os.getpid(), "device": _device(handle),
            "model_fingerprint": handle.fingerprint, "versions": version_info(), "loads": self.loads,
            "load_s": round(self.load_s, 3), "backend": handle.backend, "model": handle.name,
        }

    def run_cell(self, iv_id: str, task: str) -> list[dict]:
        """Evaluate one cell (preparing its row first if this worker has not): the records the
        driver writes, ``[{"cell": ..., "samples": ...}]`` (an n/a cell has no samples)."""
        t0 = time.perf_counter()
        row, iv = self.rows[iv_id]
        cell = Cell(iv, iv_id, task, row)
        runner = self.runner
        runner.outbox = []
        if not runner._unavailable(cell, self.ctx):
            if iv_id not in self.prepared:
                self.prepared[iv_id] = runner._prepare(iv, self.ctx)
            runner._evaluate(cell, self.ctx, self.wrapper, self.baseline, self.prepared[iv_id])
        self.cells_run += 1
        who = {k: v for k, v in self.identity().items() if k in ("worker", "host", "pid", "device")}
        for rec in runner.outbox:
            rec["cell"]["metadata"]["executor"] = who
        self.busy_s += time.perf_counter() - t0
        return runner.outbox

    def stats(self) -> dict[str, Any]:
        return {"worker": self.name, "loads": self.loads, "prepares": len(self.prepared), "cells": self.cells_run,
                "busy_s": round(self.busy_s, 3), "load_s": round(self.load_s, 3), "cpu_s": round(time.process_time(), 3)}


def _quiet(verbose: bool) -> None:
    """The driver's terminal settings in this process: warnings only, lm-eval's bars off."""
    import logging

    from tom_harness.lmeval.progress import setup_terminal

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for name in ("lm_eval", "lm-eval", "transformers", "datasets", "accelerate"):
        logging.getLogger(name).setLevel(logging.INFO if verbose else logging.WARNING)
    setup_terminal(verbose)


def _device(handle: Any) -> str:
    """The device the weights live on: ``cuda:0 (NVIDIA H200)``, ``cpu``, or the backend's name."""
    dev = handle.device
    if dev is None:
        return handle.backend
    if getattr(dev, "type", "") == "cuda":
        import torch

        return f"{dev} ({torch.cuda.get_device_name(dev)})"
    return str(dev)


__all__ = ["CellWorker", "WorkerJob"]
