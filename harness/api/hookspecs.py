"""Hook specifications for tom-harness plugins (pluggy project name ``tom_harness``).

Plugin authors import the marker from here::

    from tom_harness.api.hookspecs import hookimpl

    @hookimpl
    def register_interventions(register):
        register(MyIntervention)

Every hook is register-style, as in simonw/llm: the host passes a ``register`` callback, calls
the hook once per plugin through ``pm.hook`` and skips a plugin whose hook raises.
"""
from __future__ import annotations

from typing import Any, Callable

import pluggy

PROJECT = "tom_harness"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_interventions(register: Callable[[type], None]) -> None:
    """Register :class:`tom_harness.api.intervention.Intervention` subclasses: ``register(cls)``."""


@hookspec
def register_task_sources(register: Callable[[Any], None]) -> None:
    """Register lm-eval tasks: ``register(path_to_yaml_folder)`` or ``register(dict_config)``."""


@hookspec
def register_model_aliases(register: Callable[..., None]) -> None:
    """Register model aliases: ``register(name, resolve, description="")``.

    ``resolve()`` returns a dict of HF loading arguments, e.g. ``{"pretrained": dir,
    "gguf_file": name}``. The first plugin to register a name wins.
    """


@hookspec
def register_backends(register: Callable[..., None]) -> None:
    """Register model backends (``--model`` values):
    ``register(name, loader, description="", check=None)``.

    ``loader(model_args: dict, device: str | None, batch_size) -> ModelHandle`` loads the model
    once per run; ``model_args`` has aliases already resolved (``pretrained`` is a path or hub id,
    ``name`` the display name). ``check(model_args)``, if given, runs on the same arguments before
    any task loads and raises a UsageError for arguments the loader would reject. The built-in ``hf`` and ``vllm`` come from
    ``tom_harness.backends.loading``; the first plugin to register a name wins, in pluggy's call order
    (plugins registered later are called first), so a plugin may replace a built-in backend.
    """


@hookspec
def register_report_writers(register: Callable[..., None]) -> None:
    """Register writers run after the leaderboard: ``register(name, fn)``.

    ``fn(output_dir: Path, table: pandas.DataFrame, cells: list[dict]) -> list[Path]`` writes
    extra files (plots, tables) and returns their paths.
    """


@hookspec
def register_result_processors(register: Callable[..., None]) -> None:
    """Register post-processors of lm-eval results: ``register(name, fn)``.

    ``fn(results: dict, task: TaskInfo | None) -> None`` edits the dict ``lm_eval.simple_evaluate``
    returned, in place (e.g. adds the std across seed subtasks to each seed group), after every
    evaluation: each cell of ``tom-harness run`` (``task`` is the cell's task) and each top-level
    task of an lm-eval run with ``--model tomh``. Processors run in registration order.
    """
