"""The plugin host: built-in plugins, entry points, ``--plugins`` modules, and the registries.

Like simonw/llm's ``DEFAULT_PLUGINS``, the built-in plugins (:data:`DEFAULT_PLUGINS`) are
imported and registered on every run; the ``tom_harness`` entry-point group is for third-party
packages, and ``TOM_HARNESS_LOAD_PLUGINS`` (comma-separated entry-point names) filters only
those. Every hook is called through ``pm.hook`` (pluggy's order: last registered first,
``tryfirst``/``trylast`` honoured, wrappers kept), one plugin at a time, so a plugin that fails to
import or raises while registering is recorded in :attr:`PluginHost.failures` (name and error)
and skipped while the rest keep working.
"""
from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import logging
import os
import sys
import traceback
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Callable, Iterable

import pluggy

from tom_harness.api import hookspecs
from tom_harness.api.errors import UsageError, closest, unknown
from tom_harness.api.intervention import Intervention, TaskInfo
from tom_harness.api.params import expand, parse_spec
from tom_harness.host.registrars import (
    REGISTER_HOOKS, Backend, Entry, ModelAlias, Registries, ResultProcessor, make_register, merge,
)
from tom_harness.host.stack import build_stack_rows

ENTRY_POINT_GROUP = "tom_harness"
LOAD_PLUGINS_ENV = "TOM_HARNESS_LOAD_PLUGINS"
#: plugins registered on every run, under these names, before any entry point
DEFAULT_PLUGINS: dict[str, str] = {
    "tom_harness.backends.loading": "tom_harness.backends.loading",
    "tom_harness.backends.replay": "tom_harness.backends.replay",
    "builtin": "tom_harness.plugins.builtin",
    "benchmarks": "tom_harness.plugins.benchmarks",
    "grad_mask": "tom_harness.plugins.grad_mask",
    "localizer": "tom_harness.plugins.localizer",
    "enigma": "tom_harness.plugins.enigma",
    "baselines": "tom_harness.plugins.baselines",
    "adapter": "tom_harness.plugins.adapter",
    "steer": "tom_harness.plugins.steer",
}
log = logging.getLogger("tom_harness")


@dataclass
class PluginFailure:
    name: str
    error: str
    detail: str = ""


@dataclass
class PluginHost(Registries):
    """Holds the plugin manager and what the plugins registered (the :class:`Registries`)."""

    pm: pluggy.PluginManager = field(kw_only=True)
    failures: list[PluginFailure] = field(default_factory=list)

    # -- interventions -------------------------------------------------------------------
    def intervention_class(self, name: str) -> type[Intervention]:
        if name not in self.interventions:
            raise unknown("intervention", name, self.interventions)
        return self.interventions[name]

    def build_interventions(self, spec_text: str, pair_sep: str = ",") -> list[Intervention]:
        """Parse, validate and expand one spec string into intervention instances (one per row)."""
        stacked = build_stack_rows(spec_text, self.interventions, lambda part: self._build_single(part, pair_sep))
        return stacked if stacked is not None else self._build_single(spec_text, pair_sep)

    def _build_single(self, spec_text: str, pair_sep: str) -> list[Intervention]:
        """The rows of one (unstacked) intervention spec."""
        spec = parse_spec(spec_text, pair_sep)
        cls = self.intervention_class(spec.name)
        return [cls(**values) for values in expand(spec.name, cls.params, spec.raw)]

    # -- models ----------------------------------------------------------------------------
    def resolve_alias(self, name: str) -> dict | None:
        alias = self.model_aliases.get(name)
        return alias.resolve() if alias else None

    def backend(self, name: str) -> Backend:
        """The registered backend ``name`` (``--model``), or a UsageError naming the closest."""
        if name not in self.backends:
            hint = closest(name, self.backends)
            raise UsageError(
                f"unknown --model {name!r}" + (f"; did you mean {hint[0]!r}?" if hint else "")
                + f" (valid: {', '.join(sorted(self.backends))}; see `tom-harness list models`)"
            )
        return self.backends[name]

    # -- results ---------------------------------------------------------------------------
    def process_results(self, results: dict, task: TaskInfo | None) -> list[str]:
        """Run every registered result processor on an lm-eval results dict (in place); returns
        their names, for the cell's metadata. An error names the processor and its plugin."""
        for proc in self.result_processors:
            try:
                proc.fn(results, task)
            except Exception as exc:
                exc.add_note(f"in result processor {proc.name!r} of plugin {proc.plugin!r}")
                raise
        return [p.name for p in self.result_processors]

    def install(self, registries: Registries) -> None:
        """Replace what the plugins registered with ``registries`` (see :func:`_collect`)."""
        for f in fields(Registries):
            setattr(self, f.name, getattr(registries, f.name))

    def plugin_names(self) -> list[str]:
        return sorted(n for n, p in self.pm.list_name_plugin() if p is not None)


def _make_pm() -> pluggy.PluginManager:
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    return pm


def _fail(host: PluginHost, name: str, exc: BaseException) -> None:
    host.failures.append(PluginFailure(name, f"{type(exc).__name__}: {exc}", traceback.format_exc()))


def _register_module(host: PluginHost, module: Any, name: str) -> None:
    if host.pm.has_plugin(name) or host.pm.is_registered(module):
        return
    try:
        host.pm.register(module, name=name)
    except Exception as exc:  # noqa: BLE001 - e.g. a hookimpl that does not match its spec
        _fail(host, name, exc)


def _load_defaults(host: PluginHost) -> None:
    for name, module_name in DEFAULT_PLUGINS.items():
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not break the host
            _fail(host, name, exc)
            continue
        _register_module(host, module, name)


def _load_entry_points(host: PluginHost) -> None:
    """Third-party plugins; entry points into this package (``tom_harness.*``) count as built-in:
    never filtered by ``TOM_HARNESS_LOAD_PLUGINS``, never registered twice."""
    allow = os.environ.get(LOAD_PLUGINS_ENV)
    allowed = None if allow is None else {a.strip() for a in allow.split(",") if a.strip()}
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        module_name = ep.value.split(":")[0].strip()
        if module_name in DEFAULT_PLUGINS.values() or host.pm.has_plugin(ep.name):
            continue
        if allowed is not None and ep.name not in allowed and not module_name.startswith("tom_harness."):
            continue
        try:
            module = ep.load()
        except Exception as exc:  # noqa: BLE001
            _fail(host, ep.name, exc)
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
        _fail(host, ref, exc)
        return
    _register_module(host, module, name)


def call_per_plugin(pm: pluggy.PluginManager, hook: str, kwargs_for: Callable[[str], dict]) -> list[PluginFailure]:
    """Call ``pm.hook.<hook>`` once per implementing plugin, in pluggy's call order, each call
    through :meth:`pluggy.PluginManager.subset_hook_caller` (so other plugins' wrappers still wrap
    it). ``kwargs_for(plugin_name)`` builds that plugin's arguments. Returns what failed."""
    caller = getattr(pm.hook, hook)
    impls = [i for i in caller.get_hookimpls() if not (i.hookwrapper or i.wrapper)]
    failures: list[PluginFailure] = []
    for impl in reversed(impls):  # pluggy calls the end of this list first
        others = [i.plugin for i in impls if i.plugin is not impl.plugin]
        try:
            pm.subset_hook_caller(hook, remove_plugins=others)(**kwargs_for(impl.plugin_name))
        except Exception as exc:  # noqa: BLE001 - one failing plugin is reported and skipped
            failures.append(PluginFailure(impl.plugin_name, f"{type(exc).__name__}: {exc}", traceback.format_exc()))
    return failures


def _collect(host: PluginHost) -> None:
    """Run every register-style hook; a plugin that raises in any of them is skipped entirely."""
    entries: list[Entry] = []
    failed = {f.name for f in host.failures}
    for hook in REGISTER_HOOKS:
        for f in call_per_plugin(host.pm, hook, lambda p, h=hook: {"register": make_register(h, p, entries)}):
            if f.name not in failed:
                failed.add(f.name)
                host.failures.append(f)
    host.install(merge(entries, failed))


def load_host(extra_plugins: Iterable[str] = (), entry_points: bool = True) -> PluginHost:
    """Register the built-ins, then entry points, then ``--plugins`` refs; collect registrations."""
    host = PluginHost(pm=_make_pm())
    _load_defaults(host)
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


__all__ = [
    "DEFAULT_PLUGINS", "ENTRY_POINT_GROUP", "LOAD_PLUGINS_ENV", "Backend", "ModelAlias", "PluginFailure",
    "PluginHost", "ResultProcessor", "call_per_plugin", "get_host", "load_host", "recollect",
]
