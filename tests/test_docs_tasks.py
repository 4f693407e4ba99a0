"""docs/tasks.md's example task, copied verbatim from the page, runs with `sbs` applying to it."""
from __future__ import annotations

import json
import re
from pathlib import Path

from tom_harness.cli.main import main

DOC = Path(__file__).resolve().parents[1] / "docs" / "tasks.md"
BLOCK = re.compile(r'^```(\w+) title="([^"]+)"\n(.*?)^```$', re.M | re.S)


def example_files() -> dict[str, str]:
    return {path: body for _lang, path, body in BLOCK.findall(DOC.read_text(encoding="utf-8"))}


def test_docs_example_is_complete():
    files = example_files()
    assert set(files) == {"mytom/mytom.yaml", "mytom/utils.py", "mytom/data/mytom/mytom.json"}
    json.loads(files["mytom/data/mytom/mytom.json"])


def test_docs_example_runs_with_sbs(tiny_model_dir, tmp_path, monkeypatch):
    for rel, body in example_files().items():
        dest = tmp_path / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(body, encoding="utf-8")
    monkeypatch.setenv("TOM_HARNESS_DATA", str(tmp_path / "no_data_root"))  # data comes from the folder
    out = tmp_path / "out"
    code = main(["run", "--model", "hf", "--model_args", f"pretrained={tiny_model_dir}", "--include_path",
                 str(tmp_path / "mytom"), "--interventions", "none", "sbs", "--tasks", "mytom",
                 "--output_path", str(out), "--no_progress"])
    assert code == 0
    cell = json.loads((out / "cells" / "sbs" / "mytom.json").read_text())
    assert cell["status"] == "ok" and cell["headline_metric"] == "acc"
    assert cell["metadata"]["requests"]["prompt_edits"] == 3
    assert "acc,none" in cell["results"]["results"]["mytom"]
    base = json.loads((out / "cells" / "none" / "mytom.json").read_text())
    assert base["status"] == "ok" and base["metadata"]["requests"]["prompt_edits"] == 0
