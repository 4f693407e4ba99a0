"""The matrix runner: load the model once, then for each intervention prepare, and for each task
apply -> evaluate -> undo -> verify -> write the cell. Reruns skip finished cells.

What runs is planned in :mod:`plan` (rows, cells, shard, lm-eval arguments); what a cell file says
is :mod:`cell_record`. This module is the loop and the one-cell evaluation between them.
"""
from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tom_harness.lmeval import patches, progress
from tom_harness.cache.artifacts import ArtifactCache
from tom_harness.run.cell_record import cell_dict, na_reason, version_info
from tom_harness.results.outdir import OutputDir, intervention_id
from tom_harness.api.context import ModelHandle, RunContext
from tom_harness.run.session import PromptOptions, open_session
from tom_harness.api.errors import NotApplicableError
from tom_harness.run.guard import blame, loading_model
from tom_harness.model.snapshot import snapshot
from tom_harness.results.items import items_path, write_items
from tom_harness.lmeval.wrapper import InterventionLM
from tom_harness.run.locks import locked
from tom_harness.spec.matrix import MatrixSpec
from tom_harness.api.params import DEFAULT_MAX_ROWS
from tom_harness.run.plan import Cell, evaluate_kwargs, expand_interventions, parse_shard, plan_cells
from tom_harness.host.plugin_host import PluginHost
from tom_harness.spec.repeats import RepeatingTaskManager, summarise
from tom_harness.host.stack import is_checked
from tom_harness.lmeval.tasks import TaskCatalog
from tom_harness.run.restore_check import applied

__all__ = ["Cell", "MatrixRunner", "RunSummary", "evaluate_kwargs", "expand_interventions", "plan_cells"]
log = logging.getLogger("tom_harness")


def backend_refusal(handle: ModelHandle, iv: Any) -> str | None:
    """Why the loaded backend cannot run row ``iv`` (replay: only ``none``), or None."""
    refuses = getattr(handle.lm, "refuses", None)
    return refuses(iv) if callable(refuses) else None


@dataclass
class RunSummary:
    output_dir: Path
    ran: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    not_applicable: list[tuple[str, str]] = field(default_factory=list)


class MatrixRunner:
    def __init__(
        self, spec: MatrixSpec, host: PluginHost, output: Path, *, shard: str | None = None,
        overwrite: bool = False, log_samples: bool = False, progress: bool = True,
        handle: ModelHandle | None = None, cache: ArtifactCache | None = None,
        max_rows: int = DEFAULT_MAX_ROWS, lock_wait_s: float = 0.0, executor: Any = None,
    ) -> None:
        self.spec, self.host, self.out = spec, host, OutputDir(output)
        self.shard, self.overwrite, self.log_samples, self.progress = parse_shard(shard), overwrite, log_samples, progress
        self.handle, self.cache = handle, cache or ArtifactCache()
        self.catalog = TaskCatalog.from_sources(host.task_sources, spec.include_path)
        self.max_rows, self.lock_wait_s = max_rows, lock_wait_s
        self._artifacts: dict[str, list[dict]] = {}
        self.executor = executor  # None: this process runs the cells (see tom_harness.run.executors)

    # -- planning ----------------------------------------------------------------------------
    def prepare_plan(self) -> list[Cell]:
        ivs = expand_interventions(self.host, self.spec.interventions, self.max_rows)
        if self.handle is None:  # a mistyped backend or alias fails now, not after the tasks load
            from tom_harness.backends.loading import resolve_for

            resolve_for(self.host, self.spec.model, self.spec.model_args)
        self.catalog.resolve(self.spec.tasks)
        for t in self.spec.tasks:
            with blame(f"loading task {t!r}", self.host, self.catalog.folders, fallback="its config"):
                self.catalog.info(t)  # loads each task once: missing data fails here, before the model
        return plan_cells(ivs, self.spec.tasks, self.shard)

    def run(self) -> RunSummary:
        """Run the matrix as the only run writing into the output directory (a lock file)."""
        with locked(self.out.root, self.lock_wait_s), patches.patched():
            summary = self._run()
        for line in progress.summary():  # lm-eval's repeated notes, once (see progress.py)
            log.warning(line)
        return summary

    def _run(self) -> RunSummary:
        cells = self.prepare_plan()
        self.out.claim(self.spec.to_dict(), self.spec.fingerprint(), {"versions": version_info()}, self.overwrite)
        summary = RunSummary(self.out.root)
        todo: list[Cell] = []
        for c in cells:
            if self.out.is_done(c.iv_id, c.task):
                summary.skipped.append((c.intervention.label(), c.task))
            elif not c.intervention.applies_to(self.catalog.info(c.task)):
                self._write_na(c)
                summary.not_applicable.append((c.intervention.label(), c.task))
            else:
                todo.append(c)
        if todo and self.executor is not None:
            self.executor.run(self, todo, summary)
        elif todo:
            self._run_cells(todo, summary)
        return summary

    # -- execution ---------------------------------------------------------------------------
    def _load(self) -> ModelHandle:
        if self.handle is None:
            from tom_harness.backends.loading import load

            t0 = time.time()
            with loading_model(self.spec.model_args), blame("loading the model", self.host):
                self.handle = load(self.host, self.spec.model, self.spec.model_args, self.spec.device, self.spec.batch_size)
            log.info("model loaded in %.1fs", time.time() - t0)
        return self.handle

    def _run_cells(self, todo: list[Cell], summary: RunSummary) -> None:
        ctx, wrapper, baseline = self._start(todo)
        handle = ctx.handle
        self.out.update_manifest(model=handle.name, model_fingerprint=handle.fingerprint, backend=handle.backend)
        prepared: dict[str, float] = {}
        bar = progress.bar(todo, enabled=self.progress, desc="cells", unit="cell", file=sys.stderr)
        for cell in bar:
            iv = cell.intervention
            where = f"{iv.label()} × {cell.task}"[:60]
            bar.set_postfix_str(where)
            wrapper.on_answered = lambda n, w=where: bar.set_postfix_str(f"{w} · {n} requests done")
            if self._unavailable(cell, ctx):
                summary.not_applicable.append((iv.label(), cell.task))
                continue
            if cell.iv_id not in prepared:
                prepared[cell.iv_id] = self._prepare(iv, ctx)
            ran = self._evaluate(cell, ctx, wrapper, baseline, prepared[cell.iv_id])
            (summary.ran if ran else summary.not_applicable).append((iv.label(), cell.task))

    def _start(self, todo: list[Cell]) -> tuple[RunContext, InterventionLM, list]:
        """Load the model and build what every cell shares: the session (the context handed to
        interventions, lm-eval's model wrapper) and the baseline snapshot restore checks compare against."""
        handle = self._load()
        self._warn_chat_template(handle, todo)
        session = open_session(handle, PromptOptions.of(self.spec), cache=self.cache, task_info=self.catalog.info,
                               show_progress=self.progress, output_dir=self.out.root)
        return session.ctx, session.wrapper, handle.apply_to_model(snapshot)

    def _unavailable(self, cell: Cell, ctx: RunContext) -> bool:
        """Write an n/a cell if the row cannot run on this model (e.g. an adapter on a vLLM
        engine started without LoRA support)."""
        iv = cell.intervention
        reason = backend_refusal(ctx.handle, iv) or iv.unavailable(ctx)
        if reason:
            self._write_na(cell, reason)
        return bool(reason)

    def _prepare(self, iv: Any, ctx: RunContext) -> float:
        """Run the row's ``prepare`` (once per row); returns its seconds, keeps its artifact log."""
        t0 = time.time()
        self.cache.take_log()
        with blame(f"preparing {iv.label()}", self.host, self.catalog.folders):
            iv.prepare(ctx)
        self._artifacts[intervention_id(iv.label())] = self.cache.take_log()  # where each artifact came from
        return time.time() - t0

    def _evaluate(self, cell: Cell, ctx: RunContext, wrapper: InterventionLM, baseline: list, prep_s: float) -> bool:
        """Run one cell; True if it ran, False if it turned out not to apply (written n/a, e.g. a
        replay file without this cell's documents)."""
        try:
            self._run_one(cell, ctx, wrapper, baseline, prep_s)
        except NotApplicableError as exc:
            self._write_na(cell, str(exc))
            return False
        return True

    def _warn_chat_template(self, handle: ModelHandle, todo: list[Cell]) -> None:
        """Instruct models often end at once on raw prompts (0 generated tokens, accuracy 0)."""
        if self.spec.apply_chat_template or not getattr(handle.tokenizer, "chat_template", None):
            return
        gen = sorted({c.task for c in todo if "generate_until" in self.catalog.info(c.task).output_types})
        if gen:
            log.warning(
                "%s has a chat template but --apply_chat_template is off; instruct models often "
                "answer nothing on raw prompts. Generation tasks affected: %s", handle.name, ", ".join(gen),
            )

    def _run_one(self, cell: Cell, ctx: RunContext, wrapper: InterventionLM, baseline: list, prep_s: float) -> None:
        import lm_eval

        iv, handle = cell.intervention, ctx.handle
        caller = ctx.caller
        caller.state = iv.label() if is_checked(iv) else ""
        caller.take_stats()
        wrapper.take_counts()
        t_apply = time.time()
        pinned = self._pin_context_length(handle, cell.task)
        n_rep = self.spec.repeats
        manager = RepeatingTaskManager(self.catalog.manager, n_rep) if n_rep > 1 else self.catalog.manager
        try:
            with blame(f"cell {iv.label()} x {cell.task}", self.host, self.catalog.folders), \
                    applied(iv, ctx, baseline) as restore:
                wrapper.intervention = iv
                t_eval = time.time()
                results = lm_eval.simple_evaluate(
                    model=wrapper,
                    model_args={"pretrained": handle.name, "intervention": iv.label()},
                    tasks=[self.catalog.load_spec(cell.task)],
                    task_manager=manager,
                    log_samples=True,  # per-item scores are always kept (items file); full samples only if asked
                    bootstrap_iters=self.spec.bootstrap_iters,
                    **evaluate_kwargs(self.spec),
                )
                eval_s = time.time() - t_eval
        finally:
            wrapper.intervention = None
            self._unpin_context_length(handle, pinned)
        if n_rep > 1:
            summarise(results, n_rep)
        processed = self.host.process_results(results, self.catalog.info(cell.task))
        samples = results.pop("samples", None) or {}
        meta = {
            **iv.cell_metadata(),
            "requests": wrapper.take_counts(),
            "caller": caller.take_stats().as_dict(),
            "result_processors": processed,
            "timing": {"prepare_s": round(prep_s, 3), "apply_s": round(t_eval - t_apply, 3), "eval_s": round(eval_s, 3)},
        }
        if self._artifacts.get(cell.iv_id):
            meta["artifacts"] = self._artifacts[cell.iv_id]
        if restore:
            meta["restore_check"] = restore
        if n_rep > 1:
            meta["repeats"] = {"n": n_rep, "tasks": manager.repeated}
        if pinned is not None:
            meta["rolling_max_length"] = pinned[1]
        self.emit(self._cell_dict(cell, "ok", results, meta), samples)

    def emit(self, cell: dict, samples: dict | None = None) -> None:
        """Write one finished cell: its items (and samples if asked), then the cell file, each
        atomically; the cell file comes last, since its presence marks the cell done. The only
        writer of results (executors hand their workers' cells to it)."""
        iv_id, task = cell["intervention"]["id"], cell["task"]
        if cell["status"] == "ok":
            write_items(items_path(self.out.cell_path(iv_id, task)), samples or {}, cell["results"])
            if samples and self.log_samples:
                self.out.write_samples(iv_id, task, samples)
        self.out.write_cell(cell)

    def _pin_context_length(self, handle: ModelHandle, task: str) -> tuple[Any, int] | None:
        """Perplexity depends on the rolling window, so a task may pin it
        (``metadata.rolling_max_length``); an explicit ``max_length`` model arg wins."""
        want = self.catalog.metadata(task).get("rolling_max_length")
        lm = handle.lm
        if not want or "max_length" in self.spec.model_args or not hasattr(lm, "_max_length"):
            return None
        old = lm._max_length
        lm._max_length = int(want)
        return old, int(want)

    @staticmethod
    def _unpin_context_length(handle: ModelHandle, pinned: tuple[Any, int] | None) -> None:
        if pinned is not None:
            handle.lm._max_length = pinned[0]

    def _cell_dict(self, cell: Cell, status: str, results: dict | None, meta: dict) -> dict:
        return cell_dict(cell, status, results, meta, spec=self.spec, catalog=self.catalog, handle=self.handle)

    def _write_na(self, cell: Cell, reason: str | None = None) -> None:
        if reason is None:
            reason = na_reason(cell.intervention, self.catalog.info(cell.task))
        self.emit(self._cell_dict(cell, "not_applicable", None, {"reason": reason}))
