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


def test_the_journal_takes_what_the_run_wrote_and_clearing_prunes_emptied_folders(tmp_path):
    from tom_harness.results import journal

    out = tmp_path / "out"
    (out / "cells" / "none").mkdir(parents=True)
    (out / "plots").mkdir()
    mine = out / "plots" / "mine.txt"
    mine.write_text("the user's, older than the run")
    time.sleep(0.2)
    started = time.time()
    (out / "cells" / "none" / "t.json").write_text("{}")
    (out / "manifest.json").write_text("{}")
    export = out / "export" / "deep" / "tmap.safetensors"
    export.parent.mkdir(parents=True)
    export.write_bytes(b"x")
    plot = out / "plots" / "run.png"
    plot.write_bytes(b"png")
    got = {p.relative_to(out).as_posix() for p in journal.record_since(out, started)}
    assert got == {"export/deep/tmap.safetensors", "plots/run.png"}  # cells, manifest: the run's own
    journal.remove_written(out)
    assert not (out / "export").exists()  # emptied folders go
    assert not plot.exists() and mine.exists()  # a folder that still holds the user's file stays
    assert (out / "cells" / "none" / "t.json").exists()
