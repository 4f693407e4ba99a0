"""The plugin host: discovery through entry points, ``--plugins`` modules, and the registries.

Built-in plugins are declared in setup.cfg under the same ``tom_harness`` entry-point group a
third-party package uses. A plugin that fails to import or raises while registering is recorded
in :attr:`PluginHost.failures` (name and error) and skipped; the rest keep working.
"""
from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import pluggy

from . import hookspecs
from .errors import UsageError, unknown
from .interventions import KINDS, Intervention, NoIntervention
from .params import expand, parse_spec

ENTRY_POINT_GROUP = "tom_harness"


@dataclass
class PluginFailure:
    name: str
    error: str
    detail: str = ""


@dataclass
class ModelAlias:
    name: str
    resolve: Callable[[], dict]
    description: str = ""
    plugin: str = ""


@dataclass
class PluginHost:
    """Holds the plugin manager and what the plugins registered."""

    pm: pluggy.PluginManager
    interventions: dict[str, type[Intervention]] = field(default_factory=dict)
    intervention_plugin: dict[str, str] = field(default_factory=dict)
    task_sources: list[Any] = field(default_factory=list)
    model_aliases: dict[str, ModelAlias] = field(default_factory=dict)
    report_writers: dict[str, Callable] = field(default_factory=dict)
    failures: list[PluginFailure] = field(default_factory=list)

    # -- interventions -------------------------------------------------------------------
    def intervention_class(self, name: str) -> type[Intervention]:
        if name not in self.interventions:
            raise unknown("intervention", name, self.interventions)
        return self.interventions[name]

    def build_interventions(self, spec_text: str, pair_sep: str = ",") -> list[Intervention]:
        """Parse, validate and expand one spec string into intervention instances (one per row)."""
        from .stack import build_stack_rows

        stacked = build_stack_rows(self, spec_text, pair_sep)  # a+b[+c]: one row per combination
        if stacked is not None:
            return stacked
        spec = parse_spec(spec_text, pair_sep)
        cls = self.intervention_class(spec.name)
        return [cls(**values) for values in expand(spec.name, cls.params, spec.raw)]

    # -- model aliases ---------------------------------------------------------------------
    def resolve_alias(self, name: str) -> dict | None:
        alias = self.model_aliases.get(name)
        return alias.resolve() if alias else None

    def plugin_names(self) -> list[str]:
        return sorted(n for n, p in self.pm.list_name_plugin() if p is not None)


def _make_pm() -> pluggy.PluginManager:
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    return pm


def _register_module(host: PluginHost, module: Any, name: str) -> None:
    try:
        host.pm.register(module, name=name)
    except ValueError:
        pass  # already registered under this name


def _load_entry_points(host: PluginHost) -> None:
    allow = os.environ.get("TOM_HARNESS_LOAD_PLUGINS")
    allowed = None if allow is None else {a.strip() for a in allow.split(",") if a.strip()}
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if allowed is not None and ep.name not in allowed:
            continue
        if host.pm.has_plugin(ep.name):
            continue
        try:
            module = ep.load()
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not break the host
            host.failures.append(
                PluginFailure(ep.name, f"{type(exc).__name__}: {exc}", traceback.format_exc())
            )
            continue
        _register_module(host, module, ep.name)


def _load_module_path(host: PluginHost, ref: str) -> None:
    """Load ``--plugins`` values: a dotted module path or a path to a .py file."""
    try:
        if ref.endswith(".py") or os.sep in ref:
            path = Path(ref).resolve()
            if not path.is_file():
                raise FileNotFoundError(f"no such plugin file: {path}")
            spec = importlib.util.spec_from_file_location(f"tom_harness_local_{path.stem}", path)
            assert spec and spec.loader
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
            name = path.stem
        else:
            module = importlib.import_module(ref)
            name = ref
    except Exception as exc:  # noqa: BLE001
        host.failures.append(
            PluginFailure(ref, f"{type(exc).__name__}: {exc}", traceback.format_exc())
        )
        return
    _register_module(host, module, name)


def _collect(host: PluginHost) -> None:
    """Call every register-style hook one plugin at a time, so one failure skips one plugin."""
    host.interventions = {"none": NoIntervention}
    host.intervention_plugin = {"none": "tom_harness"}
    host.task_sources, host.model_aliases, host.report_writers = [], {}, {}
    for plugin_name, plugin in list(host.pm.list_name_plugin()):
        if plugin is None:
            continue
        staged: dict[str, list] = {"iv": [], "tasks": [], "alias": [], "report": []}

        def reg_iv(cls: type, _s=staged) -> None:
            if not (isinstance(cls, type) and issubclass(cls, Intervention)):
                raise TypeError(f"register_interventions expects an Intervention subclass, got {cls!r}")
            if not cls.name or cls.kind not in KINDS:
                raise TypeError(f"{cls.__name__}: set a name and a kind in {KINDS}")
            _s["iv"].append(cls)

        def reg_task(source: Any, _s=staged) -> None:
            if isinstance(source, (str, Path)):
                source = Path(source)
                if not source.exists():
                    raise FileNotFoundError(f"task source {source} does not exist")
            elif not isinstance(source, dict):
                raise TypeError(f"register_task_sources expects a folder or a dict, got {source!r}")
            _s["tasks"].append(source)

        def reg_alias(name: str, resolve: Callable[[], dict], description: str = "", _s=staged) -> None:
            _s["alias"].append(ModelAlias(name, resolve, description, plugin_name))

        def reg_report(name: str, fn: Callable, _s=staged) -> None:
            _s["report"].append((name, fn))

        try:
            for hook, cb in (
                ("register_interventions", reg_iv),
                ("register_task_sources", reg_task),
                ("register_model_aliases", reg_alias),
                ("register_report_writers", reg_report),
            ):
                impl = getattr(plugin, hook, None)
                if impl is not None and host.pm.parse_hookimpl_opts(plugin, hook) is not None:
                    impl(cb)
        except Exception as exc:  # noqa: BLE001
            host.failures.append(
                PluginFailure(plugin_name, f"{type(exc).__name__}: {exc}", traceback.format_exc())
            )
            continue
        for cls in staged["iv"]:
            host.interventions.setdefault(cls.name, cls)
            host.intervention_plugin.setdefault(cls.name, plugin_name)
        host.task_sources.extend(staged["tasks"])
        for alias in staged["alias"]:
            host.model_aliases.setdefault(alias.name, alias)
        for name, fn in staged["report"]:
            host.report_writers.setdefault(name, fn)


def load_host(extra_plugins: Iterable[str] = (), entry_points: bool = True) -> PluginHost:
    """Discover plugins (entry points, then ``--plugins`` refs) and collect registrations."""
    host = PluginHost(_make_pm())
    # the built-in loaders for hf/vllm answer load_model last (trylast) and need no entry point
    from . import models

    _register_module(host, models, "tom_harness.models")
    if entry_points:
        _load_entry_points(host)
    for ref in extra_plugins:
        _load_module_path(host, ref)
    _collect(host)
    return host


_HOST: PluginHost | None = None


def get_host(extra_plugins: Iterable[str] = (), refresh: bool = False) -> PluginHost:
    """The process-wide host, loaded lazily once (``refresh`` reloads, e.g. in tests)."""
    global _HOST
    extra = list(extra_plugins)
    if _HOST is None or refresh:
        _HOST = load_host(extra)
    elif extra:
        for ref in extra:
            _load_module_path(_HOST, ref)
        _collect(_HOST)
    return _HOST


def recollect(host: PluginHost) -> None:
    """Re-run registration after plugins were added or removed with ``host.pm`` (tests)."""
    _collect(host)


def require_known_plugins(host: PluginHost) -> None:
    """Raise if any plugin failed and the user asked for strict loading (TOM_HARNESS_STRICT)."""
    if host.failures and os.environ.get("TOM_HARNESS_STRICT"):
        names = ", ".join(f.name for f in host.failures)
        raise UsageError(f"plugins failed to load: {names}")
