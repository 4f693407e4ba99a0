"""A third-party plugin package, built and pip-installed: discovered by entry point, listed, run;
a second package that raises on import is reported without breaking anything."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.test_runner import TOY_TASKS

GOOD = '''
from tom_harness import Intervention, Param, PromptEdit, hookimpl


class Shout(Intervention):
    """Appends an instruction in capitals."""

    name = "shout"
    kind = "prompts"
    description = "third-party test intervention"
    params = (Param("word", "str", "THINK"),)

    def edit_prompts(self, docs, task, ctx):
        return [PromptEdit(instruction=self.values["word"] + "!") for _ in docs]


@hookimpl
def register_interventions(register):
    register(Shout)
'''


def _package(root: Path, name: str, module: str, body: str) -> Path:
    pkg = root / name
    (pkg / module).mkdir(parents=True)
    (pkg / module / "__init__.py").write_text(body)
    (pkg / "pyproject.toml").write_text(textwrap.dedent(f"""
        [build-system]
        requires = ["setuptools>=61"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "{name}"
        version = "0.1"

        [project.entry-points.tom_harness]
        {module} = "{module}"
    """))
    return pkg


def _pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args], check=True)


@pytest.fixture(scope="module")
def installed_plugins(tmp_path_factory):
    root = tmp_path_factory.mktemp("plugins")
    good = _package(root, "tomh-shout", "tomh_shout", GOOD)
    bad = _package(root, "tomh-broken", "tomh_broken", "raise RuntimeError('boom at import')\n")
    _pip("install", "--no-deps", "--no-build-isolation", str(good), str(bad))
    yield
    _pip("uninstall", "-y", "tomh-shout", "tomh-broken")


def _cli(*args: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "tom_harness.cli", *args], capture_output=True, text=True, env=env)


def test_installed_plugin_is_listed_and_broken_one_reported(installed_plugins):
    res = _cli("list", "interventions")
    assert res.returncode == 0, res.stderr
    assert "shout  (prompts; from tomh_shout)" in res.stdout
    assert "word: str = 'THINK'" in res.stdout
    plugins = _cli("list", "plugins")
    assert "tomh_broken  [FAILED: RuntimeError: boom at import]" in plugins.stdout


def test_installed_plugin_runs_in_a_matrix(installed_plugins, tiny_model_dir, tmp_path):
    data = tmp_path / "toy.jsonl"
    data.write_text("".join(json.dumps({"narrative": f"Story {i}.", "question": "Where?", "choices": ["a", "b"], "label": 0}) + "\n" for i in range(3)))
    out = tmp_path / "out"
    res = _cli(
        "run", "--model_args", f"pretrained={tiny_model_dir}", "--tasks", "toy_mc",
        "--include_path", str(TOY_TASKS), "--interventions", "none", "shout:word=HEY",
        "--limit", "2", "--device", "cpu", "--output_path", str(out), "--log_samples", "--no_progress",
        env_extra={"TOY_TASK_DATA": str(data)},
    )
    assert res.returncode == 0, res.stderr
    assert "plugin 'tomh_broken' failed to load" in res.stderr
    sample = json.loads((out / "cells" / "shout--word=HEY" / "samples" / "toy_mc" / "toy_mc.jsonl").read_text().splitlines()[0])
    assert "Where?\nHEY!" in sample["arguments"][0][0]
    assert "shout:word=HEY" in (out / "leaderboard.csv").read_text()
