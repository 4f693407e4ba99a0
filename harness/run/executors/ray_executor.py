"""``--executor ray``: the matrix's cells on a Ray cluster, one model load per worker.

Each worker is a Ray actor wrapping :class:`~.worker.CellWorker` (it loads the model once). The
unit of scheduling is a *row bundle*, the pending cells of one intervention row: all its cells go
to one worker, in order, so the row's ``prepare`` (Fisher maps, t-maps) runs once. Artifacts are
shared through the artifact cache (one path for all workers, a lock per key: the second worker to
need a Fisher map waits and reads it). The driver (this process) holds the output lock, plans
from the cell files, and is the only writer: workers return cell records, the driver writes them
(:meth:`MatrixRunner.emit`, atomic files).

Faults. A worker that dies (killed, OOM, its node lost) is replaced by a fresh actor (the model
loads again) and the unfinished cells of its bundle go back to the queue, at most
``max_attempts`` times per bundle; a cell is written only once it is complete. An error inside a
cell (a restore-check failure, a plugin error) stops scheduling: cells already finished are
written, the workers are stopped, and the error ends the run with its exit code (3, 2).
Ctrl-C stops the workers (exit 130). A worker whose model fingerprint or package versions differ
from the driver's is refused (the reference fingerprint is the one the output directory's
manifest records, else the first worker's).
"""
from __future__ import annotations

import logging
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from tom_harness.api.errors import EXIT_INTERNAL, UsageError
from tom_harness.lmeval import progress
from tom_harness.run.cell_record import version_info
from tom_harness.run.executors.worker import CellWorker, WorkerJob
from tom_harness.run.plan import Cell, row_bundles

log = logging.getLogger("tom_harness")


class WorkersLost(RuntimeError):
    """Workers kept dying (out of memory, nodes lost): not a bug of the harness, so one message
    and exit 1 without the "report it" note; the finished cells are kept for a rerun."""

    exit_code = EXIT_INTERNAL


@dataclass
class RayOptions:
    """The ``--workers/--ray_address/--worker_cpus/--worker_gpus/--tensor_parallel`` flags."""

    workers: int = 2
    address: str | None = None
    worker_cpus: float = 1.0
    worker_gpus: float = 0.0
    tensor_parallel: int = 1
    max_attempts: int = 3  # submissions of one bundle before the run gives up on it
    torch_threads: int | None = None  # default: worker_cpus (rounded), so workers do not oversubscribe

    def check(self) -> "RayOptions":
        if self.workers < 1:
            raise UsageError(f"--workers: expected at least 1, got {self.workers}")
        if self.worker_cpus < 0 or self.worker_gpus < 0:
            raise UsageError("--worker_cpus/--worker_gpus: expected a number >= 0")
        if self.tensor_parallel < 1:
            raise UsageError(f"--tensor_parallel: expected at least 1, got {self.tensor_parallel}")
        return self


@dataclass
class _Slot:
    """One worker place: its current actor, whether it answered, and the cells it holds."""

    name: str
    actor: Any = None
    ident_ref: Any = None
    ready: bool = False
    bundle: list[Cell] | None = None
    attempts: int = 0
    load_failures: int = 0
    pending: dict[Any, Cell] = field(default_factory=dict)


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise UsageError("--executor ray needs Ray: pip install 'tom-harness[ray]'") from None
    return ray


class RayExecutor:
    name = "ray"

    def __init__(self, options: RayOptions) -> None:
        self.opts = options.check()
        self.stats: list[dict] = []  # per worker: loads, prepares, cells, busy seconds (end of a run)
        self.timing: dict[str, float] = {}  # driver side: first worker ready, last cell received

    def run(self, runner: Any, todo: list[Cell], summary: Any) -> None:
        ray = import_ray()
        started = False
        if not ray.is_initialized():
            kw: dict[str, Any] = {"address": self.opts.address} if self.opts.address else {"include_dashboard": False}
            ray.init(**kw, log_to_driver=True)
            started = True
        t0 = time.perf_counter()
        pool = _Pool(ray, self._job(runner), self.opts, runner)
        try:
            pool.run(row_bundles(todo), summary)
            self.stats = pool.collect_stats()
            self.timing = {"first_ready_s": round(pool.first_ready - t0, 3), "done_s": round(time.perf_counter() - t0, 3)}
        finally:
            pool.stop()
            if started:
                ray.shutdown()

    def _job(self, runner: Any) -> WorkerJob:
        spec = runner.spec
        if self.opts.tensor_parallel > 1:  # vLLM's own processes inside the actor, not a nested Ray executor
            import dataclasses

            spec = dataclasses.replace(spec, model_args={
                **spec.model_args, "tensor_parallel_size": self.opts.tensor_parallel,
                "distributed_executor_backend": "mp"})
        threads = self.opts.torch_threads or max(1, int(self.opts.worker_cpus))
        return WorkerJob(spec=spec, output=str(runner.out.root.resolve()), cache_dir=str(runner.cache.root.resolve()),
                         max_rows=runner.max_rows, env=WorkerJob.driver_env(), torch_threads=threads,
                         verbose=not progress.quiet())


class _Pool:
    """The driver's loop: start workers, deal bundles, write what comes back, replace the dead."""

    def __init__(self, ray: Any, job: WorkerJob, opts: RayOptions, runner: Any) -> None:
        self.ray, self.job, self.opts, self.runner = ray, job, opts, runner
        gpus = opts.worker_gpus or (opts.tensor_parallel if opts.tensor_parallel > 1 else 0)
        self.actor_cls = ray.remote(CellWorker).options(
            num_cpus=opts.worker_cpus, num_gpus=gpus, max_restarts=0, max_concurrency=1)
        self.versions = version_info()
        self.fingerprint = (runner.out.read_manifest() or {}).get("model_fingerprint")
        self.slots = [_Slot(f"w{i}") for i in range(opts.workers)]
        self.refused: list[str] = []
        self.starts, self.first_ready = 0, 0.0
        for slot in self.slots:
            self._start(slot)

    def _start(self, slot: _Slot) -> None:
        self.starts += 1
        slot.actor = self.actor_cls.remote(self.job, f"{slot.name}.{self.starts}")
        slot.ident_ref, slot.ready, slot.pending = slot.actor.identity.remote(), False, {}

    # -- the loop ------------------------------------------------------------------------------
    def run(self, bundles: list[list[Cell]], summary: Any) -> None:
        queue: deque[tuple[list[Cell], int]] = deque((b, 0) for b in bundles)
        total = sum(len(b) for b in bundles)
        bar = progress.bar(range(total), enabled=self.runner.progress, desc="cells", unit="cell", file=sys.stderr)
        while queue or any(s.pending for s in self.slots):
            self._deal(queue)
            waiting = {r: s for s in self.slots if s.actor is not None for r in
                       ([s.ident_ref] if not s.ready else list(s.pending))}
            if not waiting:
                raise WorkersLost("no Ray worker is left to run the remaining cells"
                                  + (f" (refused: {'; '.join(self.refused)})" if self.refused else "")
                                  + "; finished cells are kept, rerun to resume")
            done, _ = self.ray.wait(list(waiting), num_returns=1, timeout=1.0)
            for ref in done:
                slot = waiting[ref]
                if not slot.ready and ref == slot.ident_ref:
                    self._greet(slot, ref)
                else:
                    self._receive(slot, ref, queue, summary, bar)
        bar.close()

    def _deal(self, queue: deque) -> None:
        for slot in self.slots:
            if slot.ready and not slot.pending and queue:
                slot.bundle, slot.attempts = queue.popleft()
                for cell in slot.bundle:
                    slot.pending[slot.actor.run_cell.remote(cell.iv_id, cell.task)] = cell

    def _greet(self, slot: _Slot, ref: Any) -> None:
        """A new worker answered: check it loaded the same model under the same versions."""
        try:
            ident = self.ray.get(ref)
        except self.ray.exceptions.RayTaskError as exc:  # the model failed to load: every worker would
            raise _cause(exc) from None
        except self.ray.exceptions.RayActorError as exc:
            slot.load_failures += 1
            if slot.load_failures >= self.opts.max_attempts:
                self.refused.append(f"{slot.name} died {slot.load_failures} times while loading the model "
                                    f"({_first_line(exc)})")
                slot.actor = None
                return None
            log.warning("Ray worker %s died while loading the model (%s); starting another", slot.name, _first_line(exc))
            return self._start(slot)
        problems = [f"{k}: {ident['versions'].get(k)} != {v}" for k, v in self.versions.items()
                    if ident["versions"].get(k) != v]
        if self.fingerprint is None:
            self.fingerprint = ident["model_fingerprint"]
            self.runner.out.update_manifest(model=ident["model"], model_fingerprint=self.fingerprint,
                                            backend=ident["backend"])
        elif ident["model_fingerprint"] != self.fingerprint:
            problems.append(f"model fingerprint {ident['model_fingerprint'][:12]} != {self.fingerprint[:12]}")
        if problems:
            self.refused.append(f"{ident['worker']} on {ident['host']}: {', '.join(problems)}")
            log.warning("refused Ray worker %s on %s: %s", ident["worker"], ident["host"], ", ".join(problems))
            self.ray.kill(slot.actor)
            slot.actor = None
            return None
        slot.ready = True
        self.first_ready = self.first_ready or time.perf_counter()
        log.info("Ray worker %s ready on %s (%s), model loaded in %ss", ident["worker"], ident["host"],
                 ident["device"], ident["load_s"])
        return None

    def _receive(self, slot: _Slot, ref: Any, queue: deque, summary: Any, bar: Any) -> None:
        cell = slot.pending.pop(ref)
        try:
            records = self.ray.get(ref)
        except self.ray.exceptions.RayTaskError as exc:  # the cell itself failed: stop scheduling
            self._drain()
            raise _cause(exc) from None
        except self.ray.exceptions.RayActorError as exc:
            return self._lost(slot, cell, queue, exc)
        for rec in records:
            self.runner.emit(rec["cell"], rec["samples"])
            kind = summary.ran if rec["cell"]["status"] == "ok" else summary.not_applicable
            kind.append((cell.intervention.label(), cell.task))
        bar.update(1)
        return None

    def _lost(self, slot: _Slot, cell: Cell, queue: deque, error: BaseException) -> None:
        """The worker died: its unfinished cells (this one and those queued behind it) go back
        to the front of the queue, and a fresh worker takes the slot."""
        unfinished = [cell, *slot.pending.values()]
        rest = [c for c in (slot.bundle or []) if any(c is u for u in unfinished)]  # in row order
        attempts = slot.attempts + 1
        if attempts >= self.opts.max_attempts:
            raise WorkersLost(f"row {cell.intervention.label()}: its Ray worker died {attempts} times (last on "
                              f"task {cell.task}: {_first_line(error)}); finished cells are kept, rerun to resume "
                              "(on a shared host Ray's memory monitor may be the killer: docs/scale-out.md)")
        log.warning("Ray worker %s died during %s x %s; resubmitting %d cell(s) (attempt %d of %d)",
                    slot.name, cell.intervention.label(), cell.task, len(rest), attempts + 1, self.opts.max_attempts)
        queue.appendleft((rest, attempts))
        slot.pending, slot.bundle = {}, None
        self._start(slot)

    def _drain(self) -> None:
        """Before stopping on an error: write the cells other workers have already finished."""
        for slot in self.slots:
            ready, _ = self.ray.wait(list(slot.pending), num_returns=len(slot.pending), timeout=0) if slot.pending else ([], [])
            for ref in ready:
                try:
                    for rec in self.ray.get(ref):
                        self.runner.emit(rec["cell"], rec["samples"])
                except (self.ray.exceptions.RayTaskError, self.ray.exceptions.RayActorError):
                    continue

    def collect_stats(self) -> list[dict]:
        live = [s.actor for s in self.slots if s.actor is not None and s.ready]
        return self.ray.get([a.stats.remote() for a in live]) if live else []

    def stop(self) -> None:
        for slot in self.slots:
            if slot.actor is not None:
                self.ray.kill(slot.actor)
                slot.actor = None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


def _cause(exc: Any) -> BaseException:
    """The worker's own exception when it is an expected one (RestoreError, PluginError...: it
    keeps its exit code); anything else stays Ray's error, which carries the worker's traceback."""
    cause = getattr(exc, "cause", None)
    return cause if isinstance(getattr(cause, "exit_code", None), int) else exc
