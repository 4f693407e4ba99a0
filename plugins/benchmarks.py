"""Built-in benchmark plugin: registers the ``task_yamls`` folder (ToMi, Hi-ToM, FANToM,
sparse-ToM, WikiText-2 and the generated tomi_gen / hitom_gen) as an lm-eval task source."""
from __future__ import annotations

from tom_harness.hookspecs import hookimpl
from tom_harness.task_yamls import TASK_DIR


@hookimpl
def register_task_sources(register):
    register(TASK_DIR)
