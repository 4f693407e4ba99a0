"""What a cell file records: the row, the task, the model, lm-eval's results and the cell's
metadata, in the schema the tables are rebuilt from (``tom-harness table`` reads nothing else).

Kept apart from the runner so the schema is in one place: the runner decides *when* a cell is
written (ok or n/a); this module decides *what* it says.
"""
from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

from tom_harness import __version__
from tom_harness.api.intervention import Intervention, TaskInfo

if TYPE_CHECKING:  # pragma: no cover
    from tom_harness.api.context import ModelHandle
    from tom_harness.spec.matrix import MatrixSpec
    from tom_harness.run.plan import Cell
    from tom_harness.lmeval.tasks import TaskCatalog

SCHEMA = 1


def cell_dict(cell: "Cell", status: str, results: dict | None, meta: dict, *, spec: "MatrixSpec",
              catalog: "TaskCatalog", handle: "ModelHandle | None") -> dict[str, Any]:
    """The cell file of ``cell``: ``status`` is ``ok`` or ``not_applicable``."""
    iv = cell.intervention
    info = catalog.info(cell.task)
    task_meta = catalog.metadata(cell.task)
    return {
        "schema": SCHEMA,
        "status": status,
        "model": handle.name if handle else str(spec.model_args.get("pretrained")),
        "model_fingerprint": handle.fingerprint if handle else None,
        "intervention": {
            "name": iv.name, "label": iv.label(), "group_label": iv.group_label(), "id": cell.iv_id,
            "kind": iv.kind, "params": iv.values, "replicate_params": iv.replicate_params(), "row": cell.row,
        },
        "task": cell.task,
        "family": info.family,
        "headline_metric": task_meta.get("headline"),
        "protocol": task_meta.get("protocol"),  # generation protocol: default | paper
        "subtasks": list(info.subtasks),
        "limit": spec.limit,
        "results": results,
        "metadata": meta,
        "written": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }


def na_reason(iv: Intervention, info: TaskInfo) -> str:
    """Why ``iv`` does not apply to the task (names the missing trait, see ``traits.py``)."""
    return iv.na_reason(info)


def version_info() -> dict[str, str]:
    """Versions recorded in the manifest, so a table says what produced its numbers."""
    import lm_eval
    import torch
    import transformers

    return {
        "tom_harness": __version__, "lm_eval": lm_eval.__version__ if hasattr(lm_eval, "__version__") else "",
        "torch": torch.__version__, "transformers": transformers.__version__, "python": sys.version.split()[0],
    }
