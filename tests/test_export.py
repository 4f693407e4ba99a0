"""``tom-harness export``: a finished run's answers as an SFT JSONL a trainer can read."""
from __future__ import annotations

import json

import pytest

from tom_harness.cli.main import main
from tom_harness.spec.matrix import build_spec
from tom_harness.run.runner import MatrixRunner
from tests.test_runner import TOY_TASKS, host, toy_data  # noqa: F401  (fixtures)


def _run(host, handle, out, model_dir, **spec):  # noqa: F811
    s = build_spec({}, {"model_args": f"pretrained={model_dir}", "tasks": "toy_gen,toy_mc", "interventions": ["none", "sbs"],
                        "limit": 3, "include_path": [str(TOY_TASKS)], **spec})
    MatrixRunner(s, host, out, handle=handle, progress=False, log_samples=True).run()


def test_export_prompt_completion_and_chat_messages(host, tiny_handle, tiny_model_dir, tmp_path, capsys):  # noqa: F811
    import datasets
    from transformers import AutoTokenizer

    out = tmp_path / "plain"
    _run(host, tiny_handle, out, tiny_model_dir)
    dest = tmp_path / "sft.jsonl"
    assert main(["export", str(out), "--rows", "sbs", "--tasks", "toy_gen,toy_mc", "--dest", str(dest)]) == 0
    ds = datasets.load_dataset("json", data_files=str(dest), split="train")
    assert len(ds) == 6 and {"prompt", "completion", "task", "doc_id", "correct", "row"} <= set(ds.column_names)
    gen = [r for r in ds if r["task"] == "toy_gen"]
    samples = [json.loads(x) for x in (out / "cells/sbs/samples/toy_gen/toy_gen.jsonl").read_text().splitlines()]
    assert [r["prompt"] for r in gen] == [s["arguments"][0][0] for s in samples]
    assert [r["completion"] for r in gen] == [s["resps"][0][0] for s in samples]
    assert "Let's think step by step." in gen[0]["prompt"]
    mc = [r for r in ds if r["task"] == "toy_mc"]
    assert all(r["completion"] in (" box", " basket") for r in mc)
    # only the answers the task scored correct
    n_right = sum(1 for r in ds if r["correct"])
    code = main(["export", str(out), "--rows", "sbs", "--tasks", "toy_gen,toy_mc", "--dest", str(dest), "--correct_only"])
    if n_right:
        assert code == 0 and len(datasets.load_dataset("json", data_files=str(dest), split="train")) == n_right
    else:
        assert code == 2 and "answered correctly" in capsys.readouterr().err
    # with a chat template: messages that re-render to the exact prompt
    chat = tmp_path / "chat"
    _run(host, tiny_handle, chat, tiny_model_dir, apply_chat_template=True, system_instruction="Be brief.")
    assert main(["export", str(chat), "--rows", "none", "--tasks", "toy_gen"]) == 0
    path = capsys.readouterr().out.strip().rsplit(" to ", 1)[1]
    rows = list(datasets.load_dataset("json", data_files=path, split="train"))
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    prompts = [json.loads(x)["arguments"][0][0] for x in (chat / "cells/none/samples/toy_gen/toy_gen.jsonl").read_text().splitlines()]
    for row, prompt in zip(rows, prompts):
        roles = [m["role"] for m in row["messages"]]
        assert roles == ["system", "user", "assistant"] and row["messages"][0]["content"] == "Be brief."
        assert tok.apply_chat_template(row["messages"][:-1], tokenize=False, add_generation_prompt=True) == prompt


def test_export_errors_name_the_fix(host, tiny_handle, tiny_model_dir, tmp_path, capsys):  # noqa: F811
    out = tmp_path / "o"
    s = build_spec({}, {"model_args": f"pretrained={tiny_model_dir}", "tasks": "toy_mc", "interventions": ["none"],
                        "limit": 2, "include_path": [str(TOY_TASKS)]})
    MatrixRunner(s, host, out, handle=tiny_handle, progress=False).run()
    assert main(["export", str(out), "--rows", "none", "--tasks", "toy_mc"]) == 2
    assert "without --log_samples" in capsys.readouterr().err
    assert main(["export", str(out), "--rows", "nnone", "--tasks", "toy_mc"]) == 2
    assert "did you mean 'none'" in capsys.readouterr().err
