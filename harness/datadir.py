"""Where benchmark data lives. Resolution order: ``--data_dir``, ``TOM_HARNESS_DATA``, user cache.

The task YAMLs' utils resolve files through :func:`data_file` too, so plain ``lm_eval
--include_path task_yamls`` finds the same files as ``tom-harness run``.
"""
from __future__ import annotations

import os
from pathlib import Path

from .errors import DataMissingError

ENV_VAR = "TOM_HARNESS_DATA"


def user_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "tom_harness" / "data"


def set_data_dir(path: str | os.PathLike | None) -> None:
    """Make ``path`` the data directory for this process (and lm-eval task code it runs)."""
    if path:
        os.environ[ENV_VAR] = str(Path(path).expanduser().resolve())


def data_dir() -> Path:
    """The data directory in force (it may not exist yet)."""
    env = os.environ.get(ENV_VAR)
    return Path(env).expanduser() if env else user_data_dir()


def data_file(dataset: str, relpath: str) -> Path:
    """Absolute path of ``<data_dir>/<dataset>/<relpath>``, or a DataMissingError saying how to get it."""
    path = data_dir() / dataset / relpath
    if not path.exists():
        raise DataMissingError(
            f"missing data file {path} (dataset {dataset!r}). Get it with "
            f"`tom-harness data fetch {dataset}`, or point {ENV_VAR} / --data_dir at a folder "
            f"that holds {dataset}/{relpath}."
        )
    from .datacheck import verify_data_file

    verify_data_file(dataset, relpath, path)  # an edited seed file is reported, not scored
    return path
