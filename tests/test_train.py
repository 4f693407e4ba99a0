"""``tom-harness train``: SFT and DPO adapters on the tiny model, back into the matrix as rows."""
from __future__ import annotations

import json

import pytest

from tom_harness.api.errors import UsageError
from tom_harness.cli.main import main
from tom_harness.run.runner import MatrixRunner
from tom_harness.spec.matrix import build_spec
from tests.test_runner import TOY_TASKS, host, toy_data  # noqa: F401  (fixtures)

FAST = ["--max_steps", "2", "--batch_size", "2", "--max_length", "128", "--lora_r", "2", "--no_progress"]


def _matrix(host, handle, out, model_dir, tasks, rows, **spec):  # noqa: F811
    s = build_spec({}, {"model_args": f"pretrained={model_dir}", "tasks": tasks, "interventions": rows,
                        "limit": 3, "include_path": [str(TOY_TASKS)], **spec})
    return MatrixRunner(s, host, out, handle=handle, progress=False, log_samples=True).run()


@pytest.fixture()
def sft_data(host, tiny_handle, tiny_model_dir, tmp_path):  # noqa: F811
    """An export of the sbs row on toy_gen (3 answers)."""
    out = tmp_path / "teacher"
    _matrix(host, tiny_handle, out, tiny_model_dir, "toy_gen", ["none", "sbs"])
    dest = tmp_path / "T.jsonl"
    assert main(["export", str(out), "--rows", "sbs", "--tasks", "toy_gen", "--dest", str(dest)]) == 0
    return out, dest


def _train(method, model_dir, data, output, cache, *extra):
    return main(["train", method, "--model_args", f"pretrained={model_dir}", "--data", str(data),
                 "--output", str(output), "--cache_dir", str(cache), *FAST, *extra])


def test_sft_adapter_card_and_row_with_restore_check(host, tiny_handle, tiny_model_dir, sft_data, tmp_path, capsys):  # noqa: F811
    run, data = sft_data
    adp = tmp_path / "ADP"
    assert _train("sft", tiny_model_dir, data, adp, tmp_path / "cache") == 0
    assert "trained 2 steps" in capsys.readouterr().out
    card = json.loads((adp / "adapter_card.json").read_text())
    assert card["base"]["fingerprint"] == tiny_handle.fingerprint
    assert card["data"]["sha256"] and card["data"]["rows"] == ["sbs"] and card["data"]["tasks"] == ["toy_gen"]
    assert card["data"]["runs"] == [str(run.resolve())]
    assert [k["doc_id"] for k in card["data"]["items"]] == [0, 1, 2] and all(k["doc_hash"] for k in card["data"]["items"])
    assert card["recipe"]["method"] == "sft" and card["recipe"]["seed"] == 0 and card["versions"]["trl"]
    assert len(card["loss_curve"]) == 2 and card["training"]["cpu_s"] > 0
    assert (adp / "loss.png").read_bytes()[:4] == b"\x89PNG" and "toy_gen" in (adp / "README.md").read_text()
    # the adapter is a row: it changes answers on another task and leaves the base bit-identical
    out = tmp_path / "student"
    summary = _matrix(host, tiny_handle, out, tiny_model_dir, "toy_mc", ["none", f"adapter:path={adp}"])
    assert len(summary.ran) == 2
    cell = next(json.loads(p.read_text()) for p in (out / "cells").glob("adapter*/toy_mc.json"))
    assert cell["metadata"]["restore_check"]["ok"] is True and cell["metadata"]["adapter_params"] > 0
    # agreement of the student row with a teacher row of another run (compare ROW_OF_RUN1 ROW_OF_RUN2)
    teacher = tmp_path / "teacher_mc"
    _matrix(host, tiny_handle, teacher, tiny_model_dir, "toy_mc", ["sbs"])
    assert main(["compare", str(teacher), str(out), "--rows", "sbs", f"adapter:path={adp}", "--dest", str(tmp_path / "cmp")]) == 0
    import pandas as pd

    frame = pd.read_csv(tmp_path / "cmp" / "compare.csv")
    assert set(frame["left"]) == {"teacher_mc/sbs"} and set(frame["right"]) == {f"student/adapter:path={adp}"}
    assert set(frame["n"]) == {3}
    # contamination guard at run time: the training task is refused, unless allowed
    with pytest.raises(UsageError, match=r"toy_gen \(3 items: doc 0, 1, 2\)"):
        _matrix(host, tiny_handle, tmp_path / "o2", tiny_model_dir, "toy_gen", [f"adapter:path={adp}"])
    allowed = _matrix(host, tiny_handle, tmp_path / "o3", tiny_model_dir, "toy_gen",
                      [f"adapter:path={adp},allow_overlap=true"])
    assert len(allowed.ran) == 1


def test_same_seed_same_bytes_and_cache_hit(tiny_model_dir, sft_data, tmp_path, capsys, monkeypatch):
    _, data = sft_data
    files = ("adapter_model.safetensors", "adapter_config.json")
    assert _train("sft", tiny_model_dir, data, tmp_path / "a", tmp_path / "c1") == 0
    assert _train("sft", tiny_model_dir, data, tmp_path / "b", tmp_path / "c2") == 0  # a fresh cache: retrained
    assert all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files)
    assert _train("sft", tiny_model_dir, data, tmp_path / "s1", tmp_path / "c3", "--seed", "1") == 0
    assert (tmp_path / "s1" / files[0]).read_bytes() != (tmp_path / "a" / files[0]).read_bytes()
    capsys.readouterr()

    import tom_harness.train.trainer as trainer

    monkeypatch.setattr(trainer, "train", lambda *a, **k: pytest.fail("a cache hit must not train"))
    assert _train("sft", tiny_model_dir, data, tmp_path / "again", tmp_path / "c1") == 0
    assert "cache hit" in capsys.readouterr().out
    assert (tmp_path / "again" / files[0]).read_bytes() == (tmp_path / "a" / files[0]).read_bytes()


def test_overlap_guard_refuses_training_on_evaluated_tasks(tiny_model_dir, sft_data, tmp_path, capsys):
    _, data = sft_data
    code = _train("sft", tiny_model_dir, data, tmp_path / "x", tmp_path / "c", "--eval_tasks", "toy_mc,toy_gen",
                  "--include_path", str(TOY_TASKS))
    err = capsys.readouterr().err
    assert code == 2 and "toy_gen (3 items" in err and "--allow_overlap" in err and not (tmp_path / "x").exists()


def test_dpo_on_pairs_from_repeats_runs_as_a_row(host, tiny_handle, tiny_model_dir, tmp_path, capsys):  # noqa: F811
    run = tmp_path / "sampled"
    _matrix(host, tiny_handle, run, tiny_model_dir, "toy_sample", ["none"], repeats=8,
            gen_kwargs="do_sample=True,temperature=1.5,max_gen_toks=3")
    pairs = tmp_path / "P.jsonl"
    assert main(["export", str(run), "--rows", "none", "--tasks", "toy_sample", "--pairs", "--metric", "even",
                 "--dest", str(pairs)]) == 0
    lines = [json.loads(x) for x in pairs.read_text().splitlines()]
    samples = [json.loads(x) for x in (run / "cells/none/samples/toy_sample").glob("*.jsonl").__next__().read_text().splitlines()]
    by_doc = {s["doc_id"]: s for s in samples}
    for line in lines:  # chosen scored 1 (even length), rejected 0, both sampled for that very prompt
        s, (good, bad) = by_doc[line["doc_id"]], line["repeats"]
        assert (s["resps"][0][good], s["resps"][0][bad]) == (line["chosen"], line["rejected"])
        assert (s[f"even_r{good}"], s[f"even_r{bad}"]) == (1.0, 0.0) and line["prompt"] == s["arguments"][0][0]
    assert lines, "8 sampled answers of 3 documents gave no even/odd pair"
    adp = tmp_path / "DPO"
    assert _train("dpo", tiny_model_dir, pairs, adp, tmp_path / "c") == 0
    card = json.loads((adp / "adapter_card.json").read_text())
    assert card["recipe"]["method"] == "dpo" and card["recipe"]["beta"] == 0.1 and card["data"]["kind"] == "pairs"
    summary = _matrix(host, tiny_handle, tmp_path / "eval", tiny_model_dir, "toy_mc", ["none", f"adapter:path={adp}"])
    assert len(summary.ran) == 2
    # an SFT file is not pairs: the message says how to make them
    assert main(["train", "dpo", "--data", str(tmp_path / "nope.jsonl"), "--output", str(tmp_path / "z")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_killed_training_resumes_from_its_checkpoint(tiny_model_dir, sft_data, tmp_path, monkeypatch, capsys):
    from transformers import TrainerCallback

    import tom_harness.train.trainer as trainer

    _, data = sft_data
    steps = ["--max_steps", "4", "--save_steps", "2"]

    class Kill(TrainerCallback):
        def on_save(self, args, state, control, **kwargs):
            raise KeyboardInterrupt  # killed right after the step-2 checkpoint

    with monkeypatch.context() as m:
        m.setattr(trainer, "_bar_callback", lambda enabled: Kill())
        assert _train("sft", tiny_model_dir, data, tmp_path / "k", tmp_path / "c", *steps) == 130
    assert not (tmp_path / "k").exists()
    assert list((tmp_path / "c" / "adapters").glob(".work-*/checkpoint-2"))
    assert _train("sft", tiny_model_dir, data, tmp_path / "k", tmp_path / "c", *steps) == 0
    card = json.loads((tmp_path / "k" / "adapter_card.json").read_text())
    assert card["training"]["resumed_from"].endswith("checkpoint-2") and card["training"]["steps"] == 4
    assert not list((tmp_path / "c" / "adapters").glob(".work-*"))  # checkpoints go once the adapter is in place
    assert _train("sft", tiny_model_dir, data, tmp_path / "whole", tmp_path / "c2", *steps) == 0
    assert [s["step"] for s in card["loss_curve"]] == [1, 2, 3, 4]  # the checkpoint's history is kept
    whole = (tmp_path / "whole" / "adapter_model.safetensors").read_bytes()
    assert (tmp_path / "k" / "adapter_model.safetensors").read_bytes() == whole


def test_replay_lines_render_the_tasks_own_prompt(host, sft_data):  # noqa: F811
    from tom_harness.train.data import read_data
    from tom_harness.train.replay import renderer

    run, _ = sft_data
    samples = [json.loads(x) for x in (run / "cells/none/samples/toy_gen/toy_gen.jsonl").read_text().splitlines()]
    replay = run.parent / "replay.jsonl"
    replay.write_text("".join(json.dumps({"task": "toy_gen", "doc": s["doc_id"], "repeat": 0, "response": " box"}) + "\n"
                              for s in samples))
    data = read_data(replay, "sft", renderer(host, None, include_path=[str(TOY_TASKS)]))
    assert data.kind == "replay" and [r["prompt"] for r in data.rows] == [s["arguments"][0][0] for s in samples]
    assert [k["doc_hash"] for k in data.keys] == [s["doc_hash"] for s in samples]  # what compare matches on
    chat = read_data(replay, "sft", renderer(host, None, chat=True, include_path=[str(TOY_TASKS)]))
    assert chat.rows[0]["completion"] == [{"role": "assistant", "content": " box"}]
    with pytest.raises(UsageError, match="preference pairs"):
        read_data(replay, "dpo")
    replay.write_text(json.dumps({"task": "toy_gen", "doc": 99, "repeat": 0, "response": " box"}) + "\n")
    with pytest.raises(UsageError, match="'99' is not a document of toy_gen"):
        read_data(replay, "sft", renderer(host, None, include_path=[str(TOY_TASKS)]))



def test_pairs_with_a_teacher_prefer_the_teachers_answer():
    from tom_harness.results.export_pairs import pair_lines

    doc = {"choices": ["box", "basket"], "label": 0}
    sample = {"doc": doc, "doc_id": 7, "doc_hash": "ab" * 32}
    found = [{"prompt": "P", "completion": c, "repeat": k, "correct": None}
             for k, c in enumerate(["In the basket.", "The box.", "The box.", "basket", "the box!"])]
    cell = {"task": "t", "intervention": {"label": "none", "id": "none"}}
    lines = [json.loads(x) for x in pair_lines([(cell, sample, found, {"doc_id": 7})], None, {("t", "ab" * 8): "box"})]
    # deduplicated by text, paired in sampling order, each answer once; the surplus good answer is unpaired
    assert [(x["chosen"], x["rejected"], x["repeats"]) for x in lines] == [
        ("The box.", "In the basket.", [1, 0]), ("the box!", "basket", [4, 3])]
    assert pair_lines([(cell, sample, found, {})], None, {("t", "cd" * 8): "box"}) == []  # teacher never saw it
