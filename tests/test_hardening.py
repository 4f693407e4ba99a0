"""Faults that used to mix or lose results: hostile names, merged matrices, concurrent runs,
incomplete cells, plugins that change the model behind the harness's back, corrupt caches."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from tom_harness.results.outdir import OutputDir
from tom_harness.cli.main import main
from tom_harness.api.errors import RestoreError
from tom_harness.api.hookspecs import hookimpl
from tom_harness.api.intervention import Intervention, PromptEdit
from tom_harness.host.plugin_host import recollect
from tests.test_runner import TOY_TASKS, host, make_runner, toy_data  # noqa: F401 (fixtures)


def _weight(model):
    return model.model.layers[0].mlp.down_proj.weight


class SneakyPrompt(Intervention):
    """Declares itself a prompts method but edits a weight and never puts it back."""

    name = "sneaky"
    kind = "prompts"

    def apply(self, ctx):
        ctx.handle.apply_to_model(lambda m: _weight(m).data.__setitem__((0, 0), 123.0))

    def edit_prompts(self, docs, task, ctx):
        return [PromptEdit(instruction="Think.") for _ in docs]


class HalfApplied(Intervention):
    """Edits a weight, then raises in the middle of apply(); remove() restores it."""

    name = "half_applied"
    kind = "weights"

    def apply(self, ctx):
        self._old = ctx.handle.apply_to_model(lambda m: _weight(m).data[0, 0].item())[0]
        ctx.handle.apply_to_model(lambda m: _weight(m).data.__setitem__((0, 0), 7.0))
        raise ValueError("boom half-way")

    def remove(self, ctx):
        ctx.handle.apply_to_model(lambda m: _weight(m).data.__setitem__((0, 0), self._old))


class HalfAppliedNoRestore(HalfApplied):
    name = "half_applied_leaky"

    def remove(self, ctx):
        pass


class Hostile:
    @hookimpl
    def register_interventions(self, register):
        register(SneakyPrompt)
        register(HalfApplied)
        register(HalfAppliedNoRestore)


@pytest.fixture()
def hostile_host(host):  # noqa: F811
    host.pm.register(Hostile(), name="hostile-plugin")
    recollect(host)
    yield host
    host.pm.unregister(name="hostile-plugin")
    recollect(host)


def _escape_tasks(tmp_path: Path) -> Path:
    folder = tmp_path / "evil_tasks"
    folder.mkdir()
    shutil.copy(TOY_TASKS / "utils.py", folder / "utils.py")
    text = (TOY_TASKS / "toy_mc.yaml").read_text().replace("task: toy_mc", 'task: "../../../../escaped"')
    (folder / "escaped.yaml").write_text(text)
    return folder


def test_a_task_name_cannot_write_outside_the_output_dir(host, tiny_handle, tmp_path):  # noqa: F811
    out = tmp_path / "a" / "b" / "out"
    runner = make_runner(host, tiny_handle, out, ["none"], tasks="../../../../escaped", log_samples=True)
    runner.catalog = type(runner.catalog).from_sources(host.task_sources, [str(_escape_tasks(tmp_path))])
    runner.run()
    written = [p for p in tmp_path.rglob("*escaped*") if p.is_file() and "evil_tasks" not in p.parts]
    assert written and all(p.resolve().is_relative_to(out.resolve()) for p in written), written


@pytest.mark.parametrize("name", ["../x", "../../../etc/passwd", "/abs/path", "..", ".hidden", "a/b", "a\\b", ""])
def test_safe_names_are_one_component_inside_the_folder(name, tmp_path):
    from tom_harness.results.outdir import safe_name

    safe = safe_name(name)
    assert "/" not in safe and "\\" not in safe and not safe.startswith(".") and safe
    assert (tmp_path / safe).resolve().parent == tmp_path.resolve()
    assert safe_name("tomi_seed12") == "tomi_seed12"  # ordinary names keep their file names


def test_table_refuses_to_merge_different_matrices(host, tiny_handle, tmp_path, capsys):  # noqa: F811
    a, b = tmp_path / "a", tmp_path / "b"
    make_runner(host, tiny_handle, a, ["none"], tasks="toy_mc").run()
    runner = make_runner(host, tiny_handle, b, ["none"], tasks="toy_mc")
    runner.spec.limit = 2  # a different matrix: same cells, other numbers
    runner.run()
    assert main(["table", str(a), str(b)]) == 2
    assert "differ in: limit" in capsys.readouterr().err
    assert main(["table", str(a), str(b), "--force", "--dest", str(tmp_path / "merged")]) == 0


def test_shards_of_one_matrix_still_merge(host, tiny_handle, tmp_path, capsys):  # noqa: F811
    a, b = tmp_path / "a", tmp_path / "b"
    make_runner(host, tiny_handle, a, ["none", "sbs"], tasks="toy_mc", shard="1/2").run()
    make_runner(host, tiny_handle, b, ["none", "sbs"], tasks="toy_mc", shard="2/2").run()
    assert main(["table", str(a), str(b), "--dest", str(tmp_path / "m")]) == 0
    assert "sbs" in capsys.readouterr().out


def test_a_second_run_into_a_locked_dir_exits_and_a_stale_lock_is_taken_over(host, tiny_handle, tmp_path):  # noqa: F811
    out = tmp_path / "out"
    out.mkdir()
    holder = subprocess.Popen(["sleep", "60"])
    try:
        (out / ".tom_harness.lock").write_text(json.dumps({"pid": holder.pid, "host": socket.gethostname()}))
        with pytest.raises(Exception, match=f"in use by another run \\(pid {holder.pid}") as err:
            make_runner(host, tiny_handle, out, ["none"], tasks="toy_mc").run()
        assert type(err.value).__name__ == "LockedError" and err.value.exit_code == 2
        assert not (out / "cells").exists()  # nothing computed
    finally:
        holder.kill()
        holder.wait()
    summary = make_runner(host, tiny_handle, out, ["none"], tasks="toy_mc").run()  # holder is dead: stale
    assert len(summary.ran) == 1 and not (out / ".tom_harness.lock").exists()


def test_an_incomplete_cell_is_recomputed_and_skipped_by_table(host, tiny_handle, tmp_path, capsys, caplog):  # noqa: F811
    out = tmp_path / "out"
    make_runner(host, tiny_handle, out, ["none"], tasks="toy_mc,toy_other").run()
    (out / "cells" / "none" / "toy_mc.json").write_text(json.dumps({"schema": 1, "status": "ok"}))
    (out / "cells" / "none" / "toy_other.json").write_text('{"schema": 1, "status": "ok", "inter')
    assert main(["table", str(out)]) == 0  # warns and skips, no traceback
    assert "incomplete" in caplog.text and "unreadable" in caplog.text
    again = make_runner(host, tiny_handle, out, ["none"], tasks="toy_mc,toy_other").run()
    assert sorted(t for _, t in again.ran) == ["toy_mc", "toy_other"]
    assert json.loads((out / "cells" / "none" / "toy_mc.json").read_text())["results"]


def test_a_prompts_plugin_that_edits_weights_fails_loudly(hostile_host, tiny_handle, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(RestoreError, match="sneaky did not restore the model.*down_proj"):
        make_runner(hostile_host, tiny_handle, out, ["sneaky", "none"], tasks="toy_mc").run()
    assert not (out / "cells" / "sneaky" / "toy_mc.json").exists()
    assert not (out / "cells" / "none").exists()  # the run stopped before the next row


def test_remove_runs_when_apply_raises_and_the_model_is_verified(hostile_host, tiny_handle, tmp_path):
    from tom_harness.api.errors import PluginError

    before = _weight(tiny_handle.model).data[0, 0].item()
    with pytest.raises(PluginError, match="hostile-plugin.*ValueError: boom half-way"):
        make_runner(hostile_host, tiny_handle, tmp_path / "o1", ["half_applied"], tasks="toy_mc").run()
    assert _weight(tiny_handle.model).data[0, 0].item() == before
    with pytest.raises(RestoreError, match="after the cell failed: .*boom half-way"):
        make_runner(hostile_host, tiny_handle, tmp_path / "o2", ["half_applied_leaky"], tasks="toy_mc").run()


def test_overwrite_clears_every_file_the_previous_matrix_wrote(tmp_path):
    out = OutputDir(tmp_path / "out")
    out.claim({"a": 1}, "h1", {}, overwrite=False)
    cell = out.cell_path("none", "toy_mc")
    cell.parent.mkdir(parents=True)
    cell.write_text("{}")
    items = cell.with_name("toy_mc.items.jsonl")
    items.write_text("{}\n")
    plot = tmp_path / "out" / "grad_mask_sweep.png"
    report = tmp_path / "out" / "localizer" / "units.csv"
    report.parent.mkdir()
    plot.write_bytes(b"png")
    report.write_text("x")
    keep = tmp_path / "out" / "my_notes.txt"
    keep.write_text("mine")
    out.record([plot, report.parent, tmp_path / "elsewhere.txt"])
    out.claim({"a": 2}, "h2", {}, overwrite=True)
    assert not plot.exists() and not report.exists() and not items.exists() and not cell.exists()
    assert keep.exists() and json.loads(out.manifest_path.read_text())["spec_hash"] == "h2"


def test_a_garbage_generation_cache_is_moved_aside(tmp_path, caplog):
    from tom_harness.backends.caller import GenerationStore

    path = tmp_path / "generations.sqlite"
    path.write_bytes(b"this is not sqlite" * 100)
    store = GenerationStore(path)
    assert path.read_bytes().startswith(b"this is not")  # not opened until needed
    store.put_many({"k": "v"})
    assert store.get_many(["k"]) == {"k": "v"}
    assert "moved it to" in caplog.text and list(tmp_path.glob("generations.sqlite.corrupt-*"))


def _copy_tomi(shared_data: Path, dest: Path) -> Path:
    (dest / "tomi").mkdir(parents=True)
    for f in (shared_data / "tomi").glob("*.json"):
        shutil.copy2(f, dest / "tomi" / f.name)
    return dest


def test_an_edited_seed_file_is_reported_not_scored(shared_data, tmp_path, monkeypatch):
    from tom_harness.data import checksums as datacheck
    from tom_harness.data import checksums as datasets
    from tom_harness.data.roots import data_file
    from tom_harness.api.errors import DataMissingError

    monkeypatch.setenv("TOM_HARNESS_CACHE", str(tmp_path / "cache"))
    root = _copy_tomi(shared_data, tmp_path / "data")
    monkeypatch.setenv("TOM_HARNESS_DATA", str(root))
    hashed = []
    real = datasets.sha256_of
    monkeypatch.setattr(datasets, "sha256_of", lambda p: hashed.append(p) or real(p))
    data_file("tomi", "tomi_seed12.json")
    data_file("tomi", "tomi_seed12.json")
    assert len(hashed) == 1  # the second load is one stat(), not a hash
    path = root / "tomi" / "tomi_seed12.json"
    raw = bytearray(path.read_bytes())
    raw[200] = ord("X") if raw[200] != ord("X") else ord("Y")  # same size, one byte edited
    path.write_bytes(bytes(raw))
    with pytest.raises(DataMissingError, match="tomi_seed12.json does not match the registry"):
        data_file("tomi", "tomi_seed12.json")
    (root / "tomi" / "mine.json").write_text("[]")
    datacheck._warned.clear()
    assert data_file("tomi", "mine.json").exists()


def test_data_list_says_ok_only_after_a_real_check(shared_data, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TOM_HARNESS_CACHE", str(tmp_path / "cache"))
    root = _copy_tomi(shared_data, tmp_path / "data")
    path = root / "tomi" / "tomi_seed42.json"
    raw = bytearray(path.read_bytes())
    raw[100] = ord("X") if raw[100] != ord("X") else ord("Y")
    path.write_bytes(bytes(raw))
    (root / "tomi" / "extra.json").write_text("[]")
    assert main(["data", "list", "--data_dir", str(root)]) == 0
    line = next(l for l in capsys.readouterr().out.splitlines() if l.startswith("tomi "))
    assert "corrupt" in line and "tomi_seed42.json" in line and "1 unverified" in line and "extra.json" in line


def test_a_download_stops_at_the_registry_size(tmp_path):
    from tom_harness.data import DATASETS, fetch_file
    from tom_harness.api.errors import DataMissingError

    info = DATASETS["tomi"]
    size, _ = info.files["tomi_seed12.json"]
    mirror = tmp_path / "mirror" / "tomi"
    mirror.mkdir(parents=True)
    (mirror / "tomi_seed12.json").write_bytes(b"x" * (size * 20))
    with pytest.raises(DataMissingError, match="sent more than"):
        fetch_file(info, "tomi_seed12.json", tmp_path / "data", base_url=(tmp_path / "mirror").as_uri())
    part = tmp_path / "data" / "tomi" / "tomi_seed12.json.part"
    assert not part.exists() or part.stat().st_size <= size


def test_config_plugins_need_an_explicit_flag(tmp_path, capsys, monkeypatch):
    cfg = tmp_path / "m.yaml"
    marker = tmp_path / "ran.txt"
    plugin = tmp_path / "evil_plugin.py"
    plugin.write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    cfg.write_text(f"tasks: [toy_mc]\nplugins: [{plugin}]\n")
    assert main(["run", "--config", str(cfg), "--output_path", str(tmp_path / "o")]) == 2
    assert not marker.exists() and "--allow_config_plugins" in capsys.readouterr().err
