"""CLI behaviour: exit code 2 with a useful message for bad input; list; lm-eval hand-over."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tom_harness.cli.main import main
from tests.test_runner import TOY_TASKS


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["run", "--tasks", "toy_mc", "--interventions", "sbz"], "unknown intervention 'sbz'; did you mean: sbs"),
        (["run", "--tasks", "toy_mc", "--interventions", "sbs:txt=hi"], "did you mean 'text'"),
        (["run", "--tasks", "toy_mc", "--interventions", "sbs:max_gen_toks=many"], "parameter 'max_gen_toks': expected int"),
        (["run", "--tasks", "toy_mq", "--interventions", "none"], "unknown task 'toy_mq'; did you mean: toy_mc"),
        (["run", "--model", "hff", "--tasks", "toy_mc"], "did you mean 'hf'"),
        (["run", "--tasks", "toy_mc", "--model_args", "pretrained=smollm2-13m"], "unknown model alias 'smollm2-13m'; did you mean: smollm2-135m"),
        (["run", "--tasks", "toy_mc", "--limit", "ten"], "--limit: expected a number"),
        (["run", "--tasks", "toy_mc", "--shard", "3/2"], "--shard"),
        (["run", "--tasks", "toy_mc", "--config", "/nonexistent.yaml"], "no such file"),
        (["table", "/nonexistent"], "not a tom-harness output directory"),
    ],
)
def test_usage_errors_exit_2(argv, needle, capsys, monkeypatch, tmp_path):
    data = tmp_path / "toy.jsonl"
    data.write_text(json.dumps({"narrative": "S.", "question": "Q?", "choices": ["a", "b"], "label": 0}) + "\n")
    monkeypatch.setenv("TOY_TASK_DATA", str(data))
    argv = argv + ["--include_path", str(TOY_TASKS), "--output_path", str(tmp_path / "o")] if argv[0] == "run" else argv
    assert main(argv) == 2
    assert needle in capsys.readouterr().err


def test_config_file_keys_are_checked(tmp_path, capsys):
    cfg = tmp_path / "m.yaml"
    cfg.write_text("tasks: [toy_mc]\ninterventionz: [none]\n")
    assert main(["run", "--config", str(cfg)]) == 2
    assert "unknown key 'interventionz'; did you mean 'interventions'" in capsys.readouterr().err


def test_list_shows_interventions_with_parameters(capsys):
    assert main(["list", "interventions"]) == 0
    out = capsys.readouterr().out
    assert "sbs  (prompts; from builtin)" in out and "max_gen_toks: int = 0" in out


def test_missing_data_gives_fetch_hint(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("TOM_HARNESS_DATA", str(tmp_path / "empty"))
    code = main(["run", "--tasks", "tomi_seed12", "--output_path", str(tmp_path / "o"), "--no_progress"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "tom-harness data fetch tomi" in err


def test_lm_eval_handover_with_tomh_model(tiny_model_dir, tmp_path):
    data = tmp_path / "toy.jsonl"
    data.write_text("".join(json.dumps({"narrative": f"Story {i}.", "question": "Where?", "choices": ["a", "b"], "label": 0}) + "\n" for i in range(3)))
    out = tmp_path / "lmeval_out"
    res = subprocess.run(
        [sys.executable, "-m", "tom_harness.cli", "lm-eval", "run", "--model", "tomh",
         "--model_args", f"pretrained={tiny_model_dir},intervention=sbs:text=Think hard.;max_gen_toks=8",
         "--include_path", str(TOY_TASKS), "--tasks", "toy_gen", "--limit", "2", "--device", "cpu",
         "--output_path", str(out), "--log_samples"],
        capture_output=True, text=True, env={**os.environ, "TOY_TASK_DATA": str(data)},
    )
    assert res.returncode == 0, res.stderr[-3000:]
    results = list(out.rglob("results_*.json"))
    assert len(results) == 1
    doc = json.loads(results[0].read_text())
    assert "toy_gen" in doc["results"] and doc["config"]["model"]  # lm-eval's own results JSON
    assert doc["config"]["tom_harness_intervention"] == "sbs:text=Think hard.,max_gen_toks=8"
    sample = json.loads(next(out.rglob("samples_toy_gen_*.jsonl")).read_text().splitlines()[0])
    assert "Where?\nThink hard.\nAnswer:" in sample["arguments"]["gen_args_0"]["arg_0"]
