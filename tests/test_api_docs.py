"""The public API is what the docs say: docs/api.md has one index row per name of
``tom_harness.__all__`` (and no stale row), every name imports, the contract layer's names are
the same objects, every built-in plugin is listed; docs/tasks.md gives every task helper with its
parameters in order."""
from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

import tom_harness
import tom_harness.api as api
from tom_harness.host.plugin_host import DEFAULT_PLUGINS
from tom_harness.task_yamls import helpers

DOCS = Path(__file__).resolve().parents[1] / "docs"
API_MD = (DOCS / "api.md").read_text(encoding="utf-8")
TASKS_MD = (DOCS / "tasks.md").read_text(encoding="utf-8")
INDEX = API_MD.split("## Index: every public name", 1)[-1].split("\n## ", 1)[0]
ROWS = re.findall(r"^\| `([\w]+)` \|", INDEX, re.M)


def test_index_rows_match_the_exports():
    assert len(ROWS) == len(set(ROWS)), "a name has two index rows"
    assert set(ROWS) == set(tom_harness.__all__)


@pytest.mark.parametrize("name", tom_harness.__all__)
def test_every_public_name_imports_and_its_row_shows_its_parameters(name):
    value = getattr(tom_harness, name)
    row = next(line for line in INDEX.splitlines() if line.startswith(f"| `{name}` |"))
    if inspect.isfunction(value) or (inspect.isclass(value) and not issubclass(value, BaseException)
                                     and value.__init__ is not object.__init__ and name != "DataAccess"):
        for param in inspect.signature(value).parameters:
            assert param in row, f"{name}: parameter {param!r} missing from its api.md row"


def test_the_contract_layer_is_the_same_objects():
    assert set(api.__all__) <= set(tom_harness.__all__)
    assert all(getattr(api, n) is getattr(tom_harness, n) for n in api.__all__)


def test_every_built_in_plugin_is_listed():
    for name in DEFAULT_PLUGINS:
        assert f"| `{name}` |" in API_MD, name


@pytest.mark.parametrize("name", [n for n in helpers.__all__ if inspect.isfunction(getattr(helpers, n))])
def test_tasks_md_gives_every_helper_with_its_signature(name):
    params = list(inspect.signature(getattr(helpers, name)).parameters)
    found = re.findall(rf"`{name}\(([^`]*)\)", TASKS_MD)
    assert found, f"docs/tasks.md does not show `{name}(...)`"
    shown = [p.split("=")[0].strip() for p in found[0].split(",") if p.strip()]
    assert shown == params, f"{name}: docs show {shown}, the function takes {params}"
