"""Import a benchmark folder's ``utils.py`` the way lm-eval does (by file path), for tests."""
from __future__ import annotations

import importlib.util
from types import ModuleType

from tom_harness.task_yamls import TASK_DIR


def load_utils(folder: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"tomh_test_{folder}_utils", TASK_DIR / folder / "utils.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
