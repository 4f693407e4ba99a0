"""An internal error (exit 1) keeps its traceback: written to a file in the command's output
directory (else the cache directory) and named in the message, so a one-off failure can be
reported without a rerun. Usage errors (exit 2) write nothing."""
from __future__ import annotations

import importlib

import pytest

from tom_harness.results.outdir import OutputDir

cli_main = importlib.import_module("tom_harness.cli.main")  # the module (the package exports main())


def _boom(*_args, **_kw):
    return 1 / 0  # an internal error in a command


@pytest.fixture()
def out_dir(tmp_path):
    out = tmp_path / "out"
    OutputDir(out).claim({"interventions": ["none"]}, "h", {}, False)
    (out / "cells").mkdir()
    return out


def _saved(err: str):
    from pathlib import Path

    line = next(ln for ln in err.splitlines() if "its traceback is in" in ln)
    return Path(line.split("its traceback is in ", 1)[1].split("; please report")[0])


def test_traceback_goes_to_the_output_directory(out_dir, monkeypatch, capsys):
    monkeypatch.setattr("tom_harness.results.leaderboard.write_leaderboard", _boom)
    assert cli_main.main(["table", str(out_dir)]) == 1
    err = capsys.readouterr().err
    assert "internal error: ZeroDivisionError: division by zero" in err and "Traceback" not in err
    saved = _saved(err)
    assert saved.parent == out_dir and saved.name.startswith("tom_harness_error_")
    text = saved.read_text()
    assert "command:" in text and "Traceback (most recent call last)" in text
    assert "in _boom" in text and "return 1 / 0" in text and "cmd_table" in text


def test_without_an_output_directory_the_cache_takes_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TOM_HARNESS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setitem(cli_main.COMMANDS, "list", _boom)
    assert cli_main.main(["list", "tasks"]) == 1
    saved = _saved(capsys.readouterr().err)
    assert saved.parent == tmp_path / "cache" / "errors" and "ZeroDivisionError" in saved.read_text()


def test_nowhere_to_write_falls_back_to_the_debug_hint(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    monkeypatch.setenv("TOM_HARNESS_CACHE", str(blocker / "cache"))  # parent is a file: unwritable, even for root
    monkeypatch.setitem(cli_main.COMMANDS, "list", _boom)
    assert cli_main.main(["list", "tasks"]) == 1
    assert "rerun with --debug for the traceback" in capsys.readouterr().err


def test_usage_errors_write_no_file(out_dir, capsys):
    assert cli_main.main(["compare", str(out_dir), "--rows", "none", "nope"]) == 2
    assert not list(out_dir.glob("tom_harness_error_*"))
