"""Where benchmark data lives: one or more data roots, plus data a task folder carries itself.

Roots, in order: ``--data_dir`` (or ``TOM_HARNESS_DATA``), which may list several folders
separated by ``os.pathsep`` (``:`` on Linux/macOS, ``;`` on Windows); without either, the user
data folder (``$XDG_DATA_HOME/tom_harness/data``). A file ``<dataset>/<relpath>`` is taken from
the first root that has it. Loaders of a task folder may also pass ``task_dir`` (the folder of
their ``utils.py``): then ``<task_dir>/data/<dataset>/<relpath>`` is tried before the roots, and a
``relpath`` starting with ``./`` or ``../`` is relative to the task folder itself.

The task YAMLs' utils resolve files through :func:`data_file` too, so plain ``lm_eval
--include_path task_yamls`` finds the same files as ``tom-harness run``.
"""
from __future__ import annotations

import os
from pathlib import Path

from tom_harness.api.errors import DataMissingError
from tom_harness.data.checksums import verify_data_file
from tom_harness.data.registry import DATASETS

ENV_VAR = "TOM_HARNESS_DATA"


def user_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "tom_harness" / "data"


def _split(value: str) -> list[Path]:
    return [Path(p).expanduser() for p in value.split(os.pathsep) if p.strip()]


def set_data_dir(path: str | os.PathLike | None) -> None:
    """Make ``path`` (one folder, or several joined by ``os.pathsep``) the data roots of this
    process and of the lm-eval task code it runs."""
    if path:
        os.environ[ENV_VAR] = os.pathsep.join(str(p.resolve()) for p in _split(str(path)))


def roots() -> list[Path]:
    """The data roots in force, first hit wins (they may not exist yet)."""
    return _split(os.environ.get(ENV_VAR, "")) or [user_data_dir()]


def data_dir() -> Path:
    """The first data root: where ``tom-harness data fetch`` writes by default."""
    return roots()[0]


def find_dir(relpath: str) -> Path | None:
    """The first ``<root>/<relpath>`` folder that exists, or None."""
    return next((r / relpath for r in roots() if (r / relpath).is_dir()), None)


def candidates(dataset: str, relpath: str, task_dir: str | os.PathLike | None = None) -> list[Path]:
    """Every place :func:`data_file` looks for ``dataset/relpath``, in order."""
    rel = Path(relpath)
    if rel.is_absolute():
        return [rel]
    if relpath.startswith(("./", "../")):
        if task_dir is None:
            raise DataMissingError(f"data path {relpath!r} is relative to a task folder, but the loader gave none (task_dir)")
        return [Path(task_dir) / rel]
    found = [Path(task_dir) / "data" / dataset / rel] if task_dir is not None else []
    return found + [r / dataset / rel for r in roots()]


def data_file(dataset: str, relpath: str, task_dir: str | os.PathLike | None = None) -> Path:
    """Absolute path of ``dataset/relpath`` (see the module doc for the search order), or a
    DataMissingError saying where it looked and how to get the file."""
    looked = candidates(dataset, relpath, task_dir)
    for path in looked:
        if path.exists():
            if not Path(relpath).is_absolute() and not relpath.startswith(("./", "../")):
                verify_data_file(dataset, relpath, path)  # an edited seed file is reported, not scored
            return path
    raise DataMissingError(missing_advice(dataset, relpath, looked))


def missing_advice(dataset: str, relpath: str, looked: list[Path]) -> str:
    """What to do about a missing file: a fetch command only for datasets the registry knows."""
    where = "; ".join(str(p) for p in looked)
    sep = os.pathsep
    if dataset in DATASETS:
        how = (f"Get it with `tom-harness data fetch {dataset}`, or point {ENV_VAR} / --data_dir at a "
               f"folder that holds {dataset}/{relpath} (several folders: join them with {sep!r}).")
    else:
        how = (f"{dataset!r} is not a dataset tom-harness can download (known: {', '.join(DATASETS)}). "
               f"Put the file at {dataset}/{relpath} under a data root and point {ENV_VAR} / --data_dir "
               f"at it (several folders: join them with {sep!r}), or ship it with the task folder as "
               f"data/{dataset}/{relpath} next to the YAML (see docs/tasks.md).")
    return f"missing data file {dataset}/{relpath} (looked in: {where}). {how}"


class DataRoots:
    """The data roots as a ``RunContext`` sees them (``tom_harness.api.context.DataAccess``)."""

    @property
    def root(self) -> Path:
        return data_dir()

    def path(self, dataset: str, relpath: str) -> Path:
        return data_file(dataset, relpath)
