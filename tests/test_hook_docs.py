"""Every hook is documented with its exact signature (as datasette tests its plugin hooks), in
docs/api.md (a heading per hook) and in the README's hooks table; no documented hook is stale."""
from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from tom_harness.api import hookspecs

REPO = Path(__file__).resolve().parents[1]
API = (REPO / "docs" / "api.md").read_text()
README = (REPO / "README.md").read_text()
SPECS = {
    name: fn for name, fn in vars(hookspecs).items()
    if callable(fn) and hookspecs.hookspec.project_name + "_spec" in getattr(fn, "__dict__", {})
}


def _signature(fn) -> str:
    return f"{fn.__name__}({', '.join(inspect.signature(fn).parameters)})"


def test_hookspecs_are_found():
    assert {"register_interventions", "register_backends", "register_result_processors"} <= set(SPECS)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_hook_has_a_heading_with_its_signature_in_api_docs(name):
    assert f"### `{_signature(SPECS[name])}`" in API


@pytest.mark.parametrize("name", sorted(SPECS))
def test_hook_is_in_the_readme_table(name):
    assert f"| `{_signature(SPECS[name])}` |" in README


def test_no_stale_hook_is_documented():
    documented = set(re.findall(r"^### `(\w+)\(", API, flags=re.M))
    in_table = set(re.findall(r"^\| `(\w+)\(", README, flags=re.M))
    assert documented == set(SPECS) and in_table == set(SPECS)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_hookspec_has_a_docstring_naming_the_register_call(name):
    assert "register(" in (SPECS[name].__doc__ or "")
