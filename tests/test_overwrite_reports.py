"""``--overwrite`` clears every report file of the replaced matrix: after a localizer matrix is
replaced by another, its ``localizer/`` export folder (t-maps written while preparing, their
plots) and its per-layer plot are gone, and the new leaderboard.html shows none of them."""
from __future__ import annotations

import importlib
import time

from tests.test_runner import TOY_TASKS, toy_data  # noqa: F401  (fixture)
from tom_harness.results.outdir import OutputDir

cli_main = importlib.import_module("tom_harness.cli.main")


def _run(model_dir, out, *rows, overwrite=False):
    args = ["run", "--model_args", f"pretrained={model_dir}", "--tasks", "toy_mc", "--include_path", str(TOY_TASKS),
            "--limit", "2", "--device", "cpu", "--output_path", str(out), "--no_progress", "--interventions", *rows]
    return cli_main.main(args + (["--overwrite"] if overwrite else []))


def test_overwrite_removes_the_replaced_matrix_report_files(tiny_model_dir, tmp_path, shared_data):
    out = tmp_path / "out"
    out.mkdir()
    notes = out / "my_notes.txt"
    notes.write_text("mine, written before any run")
    time.sleep(0.2)  # past the journal's timestamp slack (0.05 s)
    assert _run(tiny_model_dir, out, "none", "localizer:pct=1,batch_size=4") == 0
    tmaps = sorted((out / "localizer").glob("tmap_*"))
    assert {p.suffix for p in tmaps} == {".safetensors", ".json", ".png"}
    assert "localizer/tmap_" in (out / "leaderboard.html").read_text()
    journal = {p.relative_to(out.resolve()).as_posix() for p in OutputDir(out).written_files()}
    assert {p.relative_to(out).as_posix() for p in tmaps} <= journal  # what prepare() exported too
    assert "my_notes.txt" not in journal

    assert _run(tiny_model_dir, out, "none", overwrite=True) == 0
    assert not (out / "localizer").exists() and not (out / "localizer_units_per_layer.png").exists()
    html = (out / "leaderboard.html").read_text()
    assert "tmap_" not in html and "localizer" not in html
    assert notes.read_text() == "mine, written before any run"
    assert [p.name for p in (out / "cells").iterdir()] == ["none"]
