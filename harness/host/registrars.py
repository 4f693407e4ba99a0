"""The ``register`` callbacks handed to the register-style hooks, and what they record.

Each hook in :data:`REGISTER_HOOKS` gets a callback that checks its arguments at once (so a bad
registration fails inside the plugin that made it, and that plugin is skipped) and appends an
:class:`Entry`. The host merges the entries of the plugins that did not fail (:func:`merge`, which
returns new :class:`Registries` and never touches the host), in pluggy's call order; the first
plugin to register a name wins, and a later duplicate is logged.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from tom_harness.api.intervention import KINDS, Intervention, NoIntervention

if TYPE_CHECKING:  # pragma: no cover
    from tom_harness.api.context import ModelHandle

log = logging.getLogger("tom_harness")


@dataclass
class ModelAlias:
    """``pretrained=<name>`` stands for the loading arguments ``resolve()`` returns."""

    name: str
    resolve: Callable[[], dict]
    description: str = ""
    plugin: str = ""


@dataclass
class Backend:
    """A ``--model`` value: ``loader(model_args, device, batch_size) -> ModelHandle``; the
    optional ``check(model_args)`` fails early on arguments the loader would reject."""

    name: str
    loader: Callable[[dict, "str | None", Any], "ModelHandle"]
    description: str = ""
    plugin: str = ""
    #: ``check(model_args)`` with aliases resolved, before any task loads (raise UsageError)
    check: Callable[[dict], None] | None = None


@dataclass
class ResultProcessor:
    """``fn(results, task)`` edits an lm-eval results dict in place after each evaluation."""

    name: str
    fn: Callable[[dict, Any], None]
    plugin: str = ""


@dataclass
class Entry:
    plugin: str
    hook: str
    value: Any


def _check_intervention(cls: Any) -> type[Intervention]:
    if not (isinstance(cls, type) and issubclass(cls, Intervention)):
        raise TypeError(f"register_interventions expects an Intervention subclass, got {cls!r}")
    if not cls.name or cls.kind not in KINDS:
        raise TypeError(f"{cls.__name__}: set a name and a kind in {KINDS}")
    if any("families" in vars(k) for k in cls.__mro__):  # silently ignored otherwise: n/a nowhere
        raise TypeError(f"{cls.__name__}: the `families` attribute was removed; declare the tasks it "
                        "applies to as traits, e.g. requires = {'family': ('tomi', 'hitom')}")
    return cls


def _check_task_source(source: Any) -> Any:
    if isinstance(source, (str, Path)):
        source = Path(source)
        if not source.exists():
            raise FileNotFoundError(f"task source {source} does not exist")
    elif not isinstance(source, dict):
        raise TypeError(f"register_task_sources expects a folder or a dict, got {source!r}")
    return source


def _named(hook: str, name: Any, fn: Any) -> None:
    if not isinstance(name, str) or not name:
        raise TypeError(f"{hook}: the first argument must be a non-empty name, got {name!r}")
    if not callable(fn):
        raise TypeError(f"{hook}: {name!r} needs a callable, got {fn!r}")


def make_register(hook: str, plugin: str, sink: list[Entry]) -> Callable[..., None]:
    """The ``register`` callback for one plugin's call of ``hook``."""

    def add(value: Any) -> None:
        sink.append(Entry(plugin, hook, value))

    if hook == "register_interventions":
        return lambda cls: add(_check_intervention(cls))
    if hook == "register_task_sources":
        return lambda source: add(_check_task_source(source))

    def named(name: str, fn: Callable, description: str = "", check: Callable | None = None) -> None:
        _named(hook, name, fn)
        if check is not None and (hook != "register_backends" or not callable(check)):
            raise TypeError(f"{hook}: {name!r}: only register_backends takes a callable check=")
        if hook == "register_model_aliases":
            add(ModelAlias(name, fn, description, plugin))
        elif hook == "register_backends":
            add(Backend(name, fn, description, plugin, check))
        elif hook == "register_result_processors":
            add(ResultProcessor(name, fn, plugin))
        else:
            add((name, fn))

    return named


#: the register-style hooks the host calls while loading, in this order
REGISTER_HOOKS = (
    "register_interventions", "register_task_sources", "register_model_aliases",
    "register_backends", "register_report_writers", "register_result_processors",
)


def _first_wins(registry: dict, name: str, value: Any, plugin: str, what: str, owner: Callable[[Any], str]) -> None:
    if name in registry:
        log.warning("%s %r from plugin %r is shadowed by the one from %r", what, name, plugin, owner(registry[name]))
        return
    registry[name] = value


@dataclass
class Registries:
    """What the plugins registered, merged: the host's tables."""

    interventions: dict[str, type[Intervention]] = field(default_factory=lambda: {"none": NoIntervention})
    intervention_plugin: dict[str, str] = field(default_factory=lambda: {"none": "tom_harness"})
    task_sources: list[Any] = field(default_factory=list)
    model_aliases: dict[str, ModelAlias] = field(default_factory=dict)
    backends: dict[str, Backend] = field(default_factory=dict)
    report_writers: dict[str, Callable] = field(default_factory=dict)
    result_processors: list[ResultProcessor] = field(default_factory=list)


def merge(entries: list[Entry], skip: set[str]) -> Registries:
    """The registries filled from ``entries``, leaving out the plugins in ``skip``."""
    reg = Registries()
    for e in entries:
        if e.plugin in skip:
            continue
        if e.hook == "register_interventions":
            if e.value.name not in reg.interventions:
                reg.intervention_plugin[e.value.name] = e.plugin
            _first_wins(reg.interventions, e.value.name, e.value, e.plugin, "intervention",
                        lambda c: reg.intervention_plugin.get(c.name, "?"))
        elif e.hook == "register_task_sources":
            reg.task_sources.append(e.value)
        elif e.hook == "register_model_aliases":
            _first_wins(reg.model_aliases, e.value.name, e.value, e.plugin, "model alias", lambda a: a.plugin)
        elif e.hook == "register_backends":
            _first_wins(reg.backends, e.value.name, e.value, e.plugin, "backend", lambda b: b.plugin)
        elif e.hook == "register_report_writers":
            _first_wins(reg.report_writers, e.value[0], e.value[1], e.plugin, "report writer", lambda _: "?")
        elif e.hook == "register_result_processors":
            if all(p.name != e.value.name for p in reg.result_processors):
                reg.result_processors.append(e.value)
    return reg
