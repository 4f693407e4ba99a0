"""Hook specifications for tom-harness plugins (pluggy project name ``tom_harness``).

Plugin authors import the marker from here::

    from tom_harness.hookspecs import hookimpl

    @hookimpl
    def register_interventions(register):
        register(MyIntervention)

Every hook is register-style, as in simonw/llm: the host passes a ``register`` callback.
"""
from __future__ import annotations

from typing import Any, Callable

import pluggy

PROJECT = "tom_harness"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_interventions(register: Callable[[type], None]) -> None:
    """Register :class:`tom_harness.interventions.Intervention` subclasses: ``register(cls)``."""


@hookspec
def register_task_sources(register: Callable[[Any], None]) -> None:
    """Register lm-eval tasks: ``register(path_to_yaml_folder)`` or ``register(dict_config)``."""


@hookspec
def register_model_aliases(register: Callable[..., None]) -> None:
    """Register model aliases: ``register(name, resolve, description="")``.

    ``resolve()`` returns a dict of HF loading arguments, e.g. ``{"pretrained": dir,
    "gguf_file": name}``. The first plugin to register a name wins.
    """


@hookspec(firstresult=True)
def load_model(backend: str, model_args: dict, device: str | None, batch_size: Any) -> Any:
    """Return a :class:`tom_harness.models.ModelHandle` for ``backend``, or None to pass.

    The first non-None result wins; the built-in ``hf`` and ``vllm`` loaders run last.
    """


@hookspec
def register_report_writers(register: Callable[..., None]) -> None:
    """Register writers run after the leaderboard: ``register(name, fn)``.

    ``fn(output_dir: Path, table: pandas.DataFrame, cells: list[dict]) -> list[Path]`` writes
    extra files (plots, tables) and returns their paths.
    """
