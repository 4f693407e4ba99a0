"""The matrix runner on a tiny random model and toy tasks: cells, resume, restore checks, shards."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import torch

from tom_harness.api.errors import RestoreError, UsageError
from tom_harness.api.hookspecs import hookimpl
from tom_harness.api.intervention import Intervention, PromptEdit
from tom_harness.results.leaderboard import write_leaderboard
from tom_harness.spec.matrix import build_spec
from tom_harness.api.params import Param
from tom_harness.host.plugin_host import load_host, recollect
from tom_harness.run.runner import MatrixRunner

TOY_TASKS = Path(__file__).parent / "fixtures" / "toy_tasks"


@pytest.fixture(autouse=True)
def toy_data(tmp_path_factory, monkeypatch):
    path = tmp_path_factory.mktemp("toy") / "toy.jsonl"
    rows = [
        {"narrative": f"Anna put the ball in box {i}. Anna left. Bob moved the ball to the basket.",
         "question": "Where will Anna look for the ball?", "choices": ["box", "basket"], "label": 0}
        for i in range(6)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    monkeypatch.setenv("TOY_TASK_DATA", str(path))


class Forgetful(Intervention):
    """A weights intervention that 'forgets' to restore one entry."""

    name = "forgetful"
    kind = "weights"
    params = (Param("restore", "bool", False),)

    @staticmethod
    def _weight(model):
        return model.model.layers[0].mlp.down_proj.weight

    def apply(self, ctx):
        def edit(model):
            old = self._weight(model).data[0, 0].clone()
            self._weight(model).data[0, 0] += 1.0
            return old

        (self._old,) = ctx.handle.apply_to_model(edit)

    def remove(self, ctx):
        if self.values["restore"]:
            ctx.handle.apply_to_model(lambda model: self._weight(model).data.__setitem__((0, 0), self._old))


class Replicated(Intervention):
    """Adds seeded noise to the prompt instruction: rows differ only by a replicate seed."""

    name = "replicated"
    kind = "prompts"
    params = (Param("seed", "int", 0, replicate=True),)

    def edit_prompts(self, docs, task, ctx):
        return [PromptEdit(instruction=f"Hint {self.values['seed']}.") for _ in docs]


class TestPlugin:
    @hookimpl
    def register_interventions(self, register):
        register(Forgetful)
        register(Replicated)


@pytest.fixture()
def host():
    h = load_host()
    h.pm.register(TestPlugin(), name="test-plugin")
    recollect(h)
    yield h
    h.pm.unregister(name="test-plugin")


def make_runner(host, handle, out, interventions, tasks="toy_mc,toy_gen,toy_other", **kw):
    spec = build_spec({}, {
        "model_args": "pretrained=tiny", "tasks": tasks, "interventions": interventions,
        "limit": 3, "include_path": [str(TOY_TASKS)],
    })
    return MatrixRunner(spec, host, out, handle=handle, progress=False, **kw)


def test_matrix_cells_resume_and_table(host, tiny_handle, tmp_path):
    out = tmp_path / "out"
    summary = make_runner(host, tiny_handle, out, ["none", "sbs"], log_samples=True).run()
    assert len(summary.ran) == 5 and summary.not_applicable == [("sbs", "toy_other")]
    cell = json.loads((out / "cells" / "sbs" / "toy_gen.json").read_text())
    assert cell["status"] == "ok" and cell["metadata"]["requests"]["prompt_edits"] == 3
    sample = json.loads((out / "cells" / "sbs" / "samples" / "toy_gen" / "toy_gen.jsonl").read_text().splitlines()[0])
    assert "Where will Anna look for the ball?\nLet's think step by step.\nAnswer:" in sample["arguments"][0][0]
    base = json.loads((out / "cells" / "none" / "samples" / "toy_gen" / "toy_gen.jsonl").read_text().splitlines()[0])
    assert "step by step" not in base["arguments"][0][0]

    again = make_runner(host, tiny_handle, out, ["none", "sbs"]).run()
    assert again.ran == [] and len(again.skipped) == 6

    table, _, files = write_leaderboard([out], out)
    assert {"intervention", "task", "metric", "value", "delta_vs_none"} <= set(table.columns)
    csv = pd.read_csv(out / "leaderboard.csv")
    na = csv[(csv.intervention == "sbs") & (csv.task == "toy_other")]
    assert list(na.status) == ["not_applicable"]
    ok = csv[(csv.intervention == "none") & (csv.task == "toy_mc") & (csv.metric == "acc")]
    assert ok.value.iloc[0] == json.loads((out / "cells" / "none" / "toy_mc.json").read_text())["results"]["results"]["toy_mc"]["acc,none"]
    assert "<table" in (out / "leaderboard.html").read_text()


def test_forgotten_restore_fails_the_cell(host, tiny_handle, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(RestoreError, match="down_proj"):
        make_runner(host, tiny_handle, out, ["forgetful"], tasks="toy_mc").run()
    assert not (out / "cells" / "forgetful" / "toy_mc.json").exists()


def test_restoring_weights_intervention_passes_check(host, tiny_handle, tmp_path):
    before = tiny_handle.model.model.layers[0].mlp.down_proj.weight.clone()
    out = tmp_path / "out"
    make_runner(host, tiny_handle, out, ["forgetful:restore=true"], tasks="toy_mc").run()
    cell = json.loads((out / "cells" / "forgetful--restore=true" / "toy_mc.json").read_text())
    assert cell["metadata"]["restore_check"]["ok"] is True
    assert torch.equal(before, tiny_handle.model.model.layers[0].mlp.down_proj.weight)


def test_replicate_rows_get_a_summary(host, tiny_handle, tmp_path):
    out = tmp_path / "out"
    make_runner(host, tiny_handle, out, ["none", "replicated:seed=0:3"], tasks="toy_mc").run()
    table, _, _ = write_leaderboard([out], out)
    summ = table[table.status == "summary"]
    assert list(summ.intervention.unique()) == ["replicated [mean of 3]"]
    row = summ[summ.metric == "acc"].iloc[0]
    draws = table[(table.group_label == "replicated") & (table.status == "ok") & (table.metric == "acc")].value
    assert row.value == pytest.approx(draws.mean()) and row.draws == 3
    assert row.ci95_low <= row.value <= row.ci95_high


def test_shards_merge_to_the_full_table(host, tiny_handle, tmp_path):
    full, a, b = tmp_path / "full", tmp_path / "a", tmp_path / "b"
    make_runner(host, tiny_handle, full, ["none", "sbs"], tasks="toy_mc,toy_gen").run()
    make_runner(host, tiny_handle, a, ["none", "sbs"], tasks="toy_mc,toy_gen", shard="1/2").run()
    make_runner(host, tiny_handle, b, ["none", "sbs"], tasks="toy_mc,toy_gen", shard="2/2").run()
    t_full, _, _ = write_leaderboard([full], full)
    t_merged, _, _ = write_leaderboard([a, b], tmp_path)
    cols = ["intervention", "task", "subtask", "metric", "value"]
    key = lambda t: t[cols].sort_values(cols).reset_index(drop=True)  # noqa: E731
    pd.testing.assert_frame_equal(key(t_full), key(t_merged))


def test_output_dir_of_another_matrix_is_refused(host, tiny_handle, tmp_path):
    out = tmp_path / "out"
    make_runner(host, tiny_handle, out, ["none"], tasks="toy_mc").run()
    with pytest.raises(UsageError, match="different matrix"):
        make_runner(host, tiny_handle, out, ["none", "sbs"], tasks="toy_mc").run()
    summary = make_runner(host, tiny_handle, out, ["none", "sbs"], tasks="toy_mc", overwrite=True).run()
    assert len(summary.ran) == 2


def test_unknown_names_suggest_the_closest(host, tiny_handle, tmp_path):
    with pytest.raises(UsageError, match="did you mean: sbs"):
        make_runner(host, tiny_handle, tmp_path, ["sbss"]).run()
    with pytest.raises(UsageError, match="toy_mc"):
        make_runner(host, tiny_handle, tmp_path, ["none"], tasks="toy_mcq").run()
