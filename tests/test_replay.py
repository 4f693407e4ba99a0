"""``--model replay``: the file format, the request -> response mapping, missing documents,
refusals, and a full run through the runner into cells whose numbers come from the task's scorer."""
from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from tom_harness.api.errors import NotApplicableError, UsageError
from tom_harness.backends.replay import ReplayLM, ReplayRecord, check_replay, read_replay, write_replay


def _file(tmp_path: Path, lines: list) -> Path:
    p = tmp_path / "r.jsonl"
    p.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    return p


def _req(task: str, doc_id: int, doc: dict) -> SimpleNamespace:
    return SimpleNamespace(task_name=task, doc_id=doc_id, doc=doc, request_type="generate_until")


def test_read_replay_parses_and_hashes(tmp_path):
    import hashlib

    p = _file(tmp_path, [{"task": "t", "doc": "a", "repeat": 0, "response": "C"},
                         {"task": "t", "doc": 3, "repeat": 1, "response": "D"}, ""])
    rf = read_replay(p)
    assert rf.sha256 == hashlib.sha256(p.read_bytes()).hexdigest()
    assert rf.records[1] == ReplayRecord("t", "3", 1, "D") and rf.docs("t") == ["3", "a"]
    again = read_replay(write_replay(tmp_path / "w.jsonl", rf.records))
    assert again.records == rf.records


@pytest.mark.parametrize("line,match", [
    ("{not json", r"r.jsonl:1: not JSON"),
    ({"task": "t", "doc": "a", "response": "C"}, r"missing key\(s\) repeat"),
    ({"task": "t", "doc": "a", "repeat": -1, "response": "C"}, r"'repeat' must be an integer"),
    ({"task": "t", "doc": "a", "repeat": 0, "respons": "C", "response": "C"}, r"unknown key 'respons'; did you mean 'response'"),
    ({"task": "t", "doc": "a", "repeat": 0, "response": 5}, r"'task' and 'response' must be strings"),
])
def test_bad_lines_are_named(tmp_path, line, match):
    with pytest.raises(UsageError, match=match):
        read_replay(_file(tmp_path, [line]))


def test_duplicates_and_empty_files_are_refused(tmp_path):
    rec = {"task": "t", "doc": "a", "repeat": 0, "response": "C"}
    with pytest.raises(UsageError, match=r"r.jsonl:2: task 't' doc 'a' repeat 0 already on line 1"):
        read_replay(_file(tmp_path, [rec, rec]))
    with pytest.raises(UsageError, match="holds no responses"):
        read_replay(_file(tmp_path, [""]))
    with pytest.raises(UsageError, match="does not exist"):
        read_replay(tmp_path / "nope.jsonl")


def test_check_replay_names_bad_model_args(tmp_path):
    p = _file(tmp_path, [{"task": "t", "doc": "a", "repeat": 0, "response": "C"}])
    check_replay({"path": str(p), "missing": "skip"})
    with pytest.raises(UsageError, match="needs --model_args path=FILE"):
        check_replay({})
    with pytest.raises(UsageError, match="unknown key 'pth'.*did you mean 'path'"):
        check_replay({"pth": str(p)})
    with pytest.raises(UsageError, match="missing='drop'; valid: error, skip, short"):
        check_replay({"path": str(p), "missing": "drop"})


def _lm(tmp_path, missing="error", doc_key="scenario"):
    recs = [{"task": "g", "doc": "x", "repeat": k, "response": f"x{k}"} for k in range(3)]
    recs += [{"task": "g", "doc": "y", "repeat": 0, "response": "y0"}, {"task": "plain", "doc": "0", "repeat": 0, "response": "p"}]
    meta = {"g": {"doc_key": doc_key}, "plain": {}}
    return ReplayLM(read_replay(_file(tmp_path, recs)), missing, task_metadata=lambda t: meta.get(t, {}))


def test_requests_get_their_recorded_repeat(tmp_path):
    lm = _lm(tmp_path)
    x, p = _req("g", 0, {"scenario": "x"}), _req("plain", 0, {"q": 1})
    # lm-eval sends the N copies of one request together: the k-th copy is repeat k
    assert lm.generate_until([x, x, x, p]) == ["x0", "x1", "x2", "p"]


def test_missing_document_is_an_error_naming_it(tmp_path):
    lm = _lm(tmp_path)
    with pytest.raises(UsageError, match=r"no response for task 'g' doc 'z' repeat 0.*missing=skip"):
        lm.generate_until([_req("g", 5, {"scenario": "z"})])
    with pytest.raises(UsageError, match=r"no responses for task 'other' \(the file has: g, plain\)"):
        lm.generate_until([_req("other", 0, {})])
    skip = _lm(tmp_path, "skip")
    with pytest.raises(NotApplicableError, match="missing=skip: cell n/a"):
        skip.generate_until([_req("g", 5, {"scenario": "z"})])


def test_short_documents_leave_unrecorded_repeats_out(tmp_path):
    lm = _lm(tmp_path, "short")
    y = _req("g", 1, {"scenario": "y"})
    assert lm.generate_until([y, y, y]) == ["y0", None, None]
    with pytest.raises(UsageError, match="doc 'z'"):  # a document with nothing recorded is still an error
        lm.generate_until([_req("g", 5, {"scenario": "z"})])


def test_loglikelihood_and_interventions_are_refused(tmp_path):
    lm = _lm(tmp_path)
    with pytest.raises(UsageError, match=r"task\(s\) mc_task ask for log-likelihoods"):
        lm.loglikelihood([_req("mc_task", 0, {})])
    none = SimpleNamespace(name="none", label=lambda: "none")
    sbs = SimpleNamespace(name="sbs", label=lambda: "sbs")
    assert lm.refuses(none) is None
    assert "intervention sbs cannot change them" in lm.refuses(sbs)


def test_replay_run_scores_with_the_tasks_own_parser(tmp_path, shared_data, monkeypatch):
    """A replay row through the real runner: n/a for sbs (with the reason), share_c from the
    strategic-games parser, per-scenario counts in the items file, the file's sha256 recorded."""
    import gzip
    import hashlib

    from tom_harness.cli.main import main

    monkeypatch.setenv("TOM_HARNESS_DATA", str(shared_data))
    answers = {"IR_prison": ["C", "D, not C", "I pick D"], "IR_delight": ["C", "C", "neither"]}
    recs = [{"task": "sg_in_sample", "doc": s, "repeat": k, "response": r} for s, rs in answers.items() for k, r in enumerate(rs)]
    path = _file(tmp_path, recs)
    out = tmp_path / "out"
    plugin = tmp_path / "hint_plugin.py"  # a row that applies to every task, so only replay refuses it
    plugin.write_text(
        "from tom_harness.api.hookspecs import hookimpl\n"
        "from tom_harness.api.intervention import Intervention\n"
        "class Hint(Intervention):\n    name = 'hint'\n    kind = 'prompts'\n"
        "@hookimpl\ndef register_interventions(register):\n    register(Hint)\n")
    code = main(["--plugins", str(plugin), "run", "--model", "replay", "--model_args", f"path={path}", "--tasks", "sg_in_sample",
                 "--interventions", "none", "hint", "--limit", "2", "--repeats", "3", "--output_path", str(out), "--no_progress"])
    assert code == 0
    cell = json.loads((out / "cells" / "none" / "sg_in_sample.json").read_text())
    assert cell["model_fingerprint"] == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    assert cell["results"]["results"]["sg_in_sample"]["share_c,none"] == pytest.approx((1 / 3 + 2 / 3) / 2)
    rows = [json.loads(line) for line in gzip.open(out / "cells" / "none" / "sg_in_sample.items.jsonl.gz", "rt")][1:]
    counts = {r["target"]: r["counts"] for r in rows}
    assert counts == {"IR_prison": {"share_c": 1, "share_d": 2, "share_other": 0},
                      "IR_delight": {"share_c": 2, "share_d": 0, "share_other": 1}}
    na = json.loads((out / "cells" / "hint" / "sg_in_sample.json").read_text())
    assert na["status"] == "not_applicable" and "intervention hint cannot change them" in na["metadata"]["reason"]
    # a fourth repeat nobody recorded: an error naming the document, exit 2
    assert main(["run", "--model", "replay", "--model_args", f"path={path}", "--tasks", "sg_in_sample",
                 "--limit", "2", "--repeats", "4", "--output_path", str(tmp_path / "o2"), "--no_progress"]) == 2
