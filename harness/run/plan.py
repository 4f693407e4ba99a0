"""The plan of a run, before any model loads: rows from the specs, cells from rows x tasks (one
shard of them), and the arguments of each cell's lm-eval call.

The run (:mod:`runner`) and its dry run (:mod:`dryrun`, ``tom-harness prompts``) plan through the
same functions, so a dry run shows exactly the prompts the run would send.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from tom_harness.results.outdir import intervention_id
from tom_harness.api.errors import UsageError
from tom_harness.api.intervention import Intervention
from tom_harness.spec.matrix import MatrixSpec
from tom_harness.api.params import DEFAULT_MAX_ROWS, MAX_ROWS
from tom_harness.host.plugin_host import PluginHost

log = logging.getLogger("tom_harness")


@dataclass
class Cell:
    intervention: Intervention
    iv_id: str
    task: str
    row: int = 0  # position of the intervention row in the matrix (table order)


def expand_interventions(host: PluginHost, specs: list[str], max_rows: int = DEFAULT_MAX_ROWS) -> list[Intervention]:
    """All rows of the matrix, in order, duplicates dropped (with a note); at most ``max_rows``."""
    rows: list[Intervention] = []
    seen: set[str] = set()
    token = MAX_ROWS.set(max_rows)
    try:
        for text in specs:
            for iv in host.build_interventions(text):
                if iv.label() in seen:
                    log.warning("--interventions: row %s appears more than once; it runs once", iv.label())
                    continue
                seen.add(iv.label())
                rows.append(iv)
                if len(rows) > max_rows:
                    raise UsageError(f"--interventions: the matrix has more than {max_rows} rows; "
                                     f"narrow it, or raise the cap with --max_rows")
    finally:
        MAX_ROWS.reset(token)
    return rows


def evaluate_kwargs(spec: MatrixSpec) -> dict[str, Any]:
    """The ``simple_evaluate`` arguments that shape a cell's requests (shared with the dry run,
    ``tom-harness prompts``, so both build the same prompts)."""
    return dict(
        limit=spec.limit, num_fewshot=spec.num_fewshot, batch_size=spec.batch_size, device=spec.device,
        gen_kwargs=spec.gen_kwargs or None, apply_chat_template=spec.apply_chat_template,
        system_instruction=spec.system_instruction, random_seed=spec.seed, numpy_random_seed=spec.seed,
        torch_random_seed=spec.seed, fewshot_random_seed=spec.seed,
    )


def parse_shard(text: str | None) -> tuple[int, int]:
    if not text:
        return (1, 1)
    try:
        k, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise UsageError(f"--shard: expected K/N (e.g. 2/4), got {text!r}") from None
    if not 1 <= k <= n:
        raise UsageError(f"--shard: K must be between 1 and N, got {text!r}")
    return k, n


def plan_cells(ivs: list[Intervention], tasks: list[str], shard: tuple[int, int]) -> list[Cell]:
    """The cells of shard ``K/N``: rows are dealt round-robin (row i goes to shard i mod N + 1)
    with all their tasks, so no two shards repeat one row's ``prepare`` (Fisher maps, t-maps)."""
    k, n = shard
    return [Cell(iv, intervention_id(iv.label()), t, row)
            for row, iv in enumerate(ivs) if row % n == k - 1 for t in tasks]


def row_bundles(cells: list[Cell]) -> list[list[Cell]]:
    """``cells`` grouped by row, in table order: the unit an executor schedules, so a row's
    ``prepare`` runs once, on one worker."""
    bundles: dict[str, list[Cell]] = {}
    for c in cells:
        bundles.setdefault(c.iv_id, []).append(c)
    return list(bundles.values())

