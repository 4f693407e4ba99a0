"""Exceptions from code tom-harness does not own, turned into errors that name the culprit.

A plugin's ``prepare/apply/remove/edit_prompts``, a task's ``utils.py`` and model loading can
raise anything. :func:`blame` walks the traceback from the innermost frame outwards; the first
frame inside a registered plugin (or a task folder) names the culprit, and the error becomes a
:class:`PluginError` (exit 2) with the plugin, the exception and ``file:line``. An error whose
frames are all in tom-harness's core or in libraries stays what it is: a bug (exit 1).
"""
from __future__ import annotations

import inspect
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator

from tom_harness.api.errors import PluginError, RestoreError, UsageError

CORE = Path(__file__).resolve().parent


def _source_root(obj: Any) -> Path | None:
    """A package's folder, else the file of the module, class or object's class."""
    target = obj if inspect.ismodule(obj) or inspect.isclass(obj) else type(obj)
    try:
        path = Path(inspect.getfile(target)).resolve()
    except (TypeError, OSError):
        return None
    return path.parent if path.name == "__init__.py" else path


def plugin_roots(host: Any) -> dict[Path, str]:
    """Source file or folder -> plugin name, for every registered plugin and intervention."""
    roots: dict[Path, str] = {}
    for name, plugin in host.pm.list_name_plugin():
        root = _source_root(plugin) if plugin is not None else None
        if root is not None and not root.is_relative_to(CORE):
            roots.setdefault(root, name)
    for iv_name, cls in host.interventions.items():
        root = _source_root(cls)
        if root is not None and not root.is_relative_to(CORE):
            roots.setdefault(root, host.intervention_plugin.get(iv_name, iv_name))
    return roots


def find_origin(exc: BaseException, plugins: dict[Path, str], tasks: Iterable[Path]) -> tuple[str, str] | None:
    """(``"plugin 'x'"`` or ``"task folder ..."``, ``file:line``) of the innermost frame in
    plugin or task code, or None."""
    tasks = [Path(t).resolve() for t in tasks]
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        path = Path(frame.filename).resolve()
        for root, name in plugins.items():
            if path == root or path.is_relative_to(root):
                return f"plugin {name!r}", f"{frame.filename}:{frame.lineno}"
        for root in tasks:
            if path.is_relative_to(root):
                return f"task code in {root}", f"{frame.filename}:{frame.lineno}"
    return None


@contextmanager
def blame(what: str, host: Any, task_folders: Iterable[Path] = (), fallback: str | None = None) -> Iterator[None]:
    """Re-raise a plugin's or task's exception as a PluginError that says ``what`` failed.

    ``fallback`` names the culprit when no frame is in plugin or task code (loading a task runs
    only lm-eval and the task's own config, so a YAML error surfaces in lm-eval's frames)."""
    try:
        yield
    except (UsageError, RestoreError, KeyboardInterrupt):
        raise
    except Exception as exc:
        origin = find_origin(exc, plugin_roots(host), task_folders)
        if origin is None and fallback is not None:
            frames = traceback.extract_tb(exc.__traceback__)
            origin = (fallback, f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?")
        if origin is None:
            raise
        culprit, where = origin
        raise PluginError(f"{what}: {culprit} raised {type(exc).__name__}: {exc} (at {where})") from exc


@contextmanager
def loading_model(args: dict) -> Iterator[None]:
    """Errors transformers / peft / vLLM raise for a model that cannot be loaded, as a
    UsageError naming ``pretrained`` (an empty folder, an unknown hub id, a bad revision)."""
    try:
        yield
    except (UsageError, KeyboardInterrupt):
        raise
    except (OSError, ValueError, ImportError, KeyError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise UsageError(
            f"--model_args pretrained={args.get('pretrained')}: could not load the model "
            f"({type(exc).__name__}: {first[:300]})"
        ) from exc
