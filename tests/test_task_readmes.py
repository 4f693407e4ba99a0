"""Every task folder in task_yamls/ has a README.md in lm-eval's convention (paper, citation,
groups and tasks, metrics, data, prompt protocol) that names each of its tasks and groups, and
the registry dataset its data is read from."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
TASKS = REPO / "task_yamls"
REGISTRY = json.loads((REPO / "harness" / "data" / "datasets.json").read_text())
SECTIONS = ("### Paper", "### Citation", "### Groups, Tags, and Tasks", "### Metrics", "### Data", "### Prompt protocol")


class _Loader(yaml.SafeLoader):
    """Reads lm-eval task YAMLs without importing their ``!function`` targets."""


_Loader.add_constructor("!function", lambda loader, node: loader.construct_scalar(node))


def _folders() -> list[Path]:
    return sorted(p for p in TASKS.iterdir() if p.is_dir() and any(p.glob("*.yaml")))


def _configs(folder: Path) -> list[dict]:
    return [yaml.load(p.read_text(), Loader=_Loader) or {} for p in sorted(folder.glob("*.yaml"))]


def names_in(folder: Path) -> set[str]:
    """Every task and group a folder's YAMLs define (templates define neither)."""
    out = set()
    for cfg in _configs(folder):
        if isinstance(cfg.get("group"), str):
            out.add(cfg["group"])
        if isinstance(cfg.get("task"), str):
            out.add(cfg["task"])
    return out


def datasets_in(folder: Path) -> set[str]:
    return {str((cfg.get("metadata") or {}).get("dataset")) for cfg in _configs(folder)
            if (cfg.get("metadata") or {}).get("dataset")}


def test_the_folders_are_found():
    assert {"tomi", "hitom", "fantom", "bigtom", "sparse_tom", "wikitext2"} <= {p.name for p in _folders()}
    assert {"tomi", "tomi_seed12", "tomi_mc", "tomi_paper", "tomi_gen"} <= names_in(TASKS / "tomi")


@pytest.mark.parametrize("folder", _folders(), ids=lambda p: p.name)
def test_every_task_folder_has_a_readme_naming_its_tasks(folder):
    readme = folder / "README.md"
    assert readme.is_file(), f"{folder.name}/ has no README.md"
    text = readme.read_text()
    missing = sorted(n for n in names_in(folder) if f"`{n}`" not in text)
    assert not missing, f"{folder.name}/README.md does not name: {', '.join(missing)}"
    assert [s for s in SECTIONS if s not in text] == []
    assert re.search(r"```bibtex\n@\w+\{", text), "the citation is a BibTeX block"
    for name in datasets_in(folder):
        assert name in REGISTRY, f"{folder.name}: metadata names unknown dataset {name!r}"
        assert f"`{name}`" in text and "datasets.json" in text, f"{folder.name}/README.md: say it reads dataset {name!r}"
