"""A table of malformed inputs: each exits 2 with one message naming the culprit, no traceback.

Every case runs the CLI in-process and fails before any model loads (validation comes first).
Placeholders in the argv: {tmp} a scratch folder, {toy} the toy task folder, {fake} a folder
with a config.json (a model folder as far as validation goes), {empty} an empty folder,
{file} a plain file, {out} a fresh output folder, {cfg} the config file of the case.
"""
from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest

from tom_harness.cli.main import main
from tests.test_runner import TOY_TASKS

RUN = ["run", "--tasks", "toy_mc", "--include_path", "{toy}", "--output_path", "{out}", "--no_progress"]


def run(*extra: str) -> list[str]:
    return RUN + list(extra)


def ma(text: str) -> list[str]:
    return run("--model_args", text)


def gk(text: str) -> list[str]:
    return run("--gen_kwargs", text)


def iv(*specs: str) -> list[str]:
    return run("--interventions", *specs)


CASES: list[tuple[str, list[str], str]] = [
    # --model_args: types, shapes, sources (all checked before loading)
    ("ma-max_length-abc", ma("pretrained=smollm2-135m,max_length=abc"), "--model_args max_length: expected an integer"),
    ("ma-max_length-0", ma("pretrained=smollm2-135m,max_length=0"), "max_length: expected an integer >= 1"),
    ("ma-max_length-neg", ma("pretrained=smollm2-135m,max_length=-5"), "max_length"),
    ("ma-max_length-float", ma("pretrained=smollm2-135m,max_length=1.5"), "max_length"),
    ("ma-max_length-inf", ma("pretrained=smollm2-135m,max_length=inf"), "expected a finite number"),
    ("ma-max_length-nan", ma("pretrained=smollm2-135m,max_length=nan"), "expected a finite number"),
    ("ma-dtype", ma("pretrained=smollm2-135m,dtype=float8"), "dtype: expected one of"),
    ("ma-trust-maybe", ma("pretrained=smollm2-135m,trust_remote_code=maybe"), "trust_remote_code: expected true or false"),
    ("ma-eq5", ma("=5"), "--model_args: malformed item '=5'"),
    ("ma-no-eq", ma("pretrained"), "--model_args: malformed item 'pretrained'"),
    ("ma-twice", ma("pretrained=smollm2-135m,max_length=5,max_length=6"), "key 'max_length' given twice"),
    ("ma-gpu-util", ma("pretrained=smollm2-135m,gpu_memory_utilization=2"), "gpu_memory_utilization"),
    ("ma-max_batch", ma("pretrained=smollm2-135m,max_batch_size=x"), "max_batch_size"),
    ("ma-add_bos", ma("pretrained=smollm2-135m,add_bos_token=2"), "add_bos_token: expected true or false"),
    ("ma-empty-folder", ma("pretrained={empty}"), "has no config.json"),
    ("ma-missing-path", ma("pretrained=/nonexistent/model"), "/nonexistent/model does not exist"),
    ("ma-offline-hub", ma("pretrained=someorg/not-a-real-model-xyz"), "HF_HUB_OFFLINE"),
    ("ma-peft-missing", ma("pretrained={fake},peft=/nonexistent"), "peft=/nonexistent: /nonexistent does not exist"),
    ("ma-peft-empty", ma("pretrained={fake},peft={empty}"), "adapter_config.json"),
    ("ma-gguf-missing", ma("pretrained={fake},gguf_file=missing.gguf"), "gguf_file=missing.gguf"),
    ("ma-tokenizer-missing", ma("pretrained={fake},tokenizer=/nonexistent/tok"), "tokenizer=/nonexistent/tok"),
    ("ma-alias-typo", ma("pretrained=smollm2-13m"), "unknown model alias 'smollm2-13m'"),
    ("ma-no-pretrained", ma("max_length=5"), "pretrained="),
    # --gen_kwargs: the right flag is named
    ("gk-eq5", gk("=5"), "--gen_kwargs: malformed item '=5'"),
    ("gk-bare-key", gk("max_gen_toks"), "--gen_kwargs: malformed item 'max_gen_toks'"),
    ("gk-abc", gk("max_gen_toks=abc"), "--gen_kwargs max_gen_toks: expected an integer"),
    ("gk-zero", gk("max_gen_toks=0"), "--gen_kwargs max_gen_toks"),
    ("gk-temp-neg", gk("temperature=-1"), "--gen_kwargs temperature"),
    ("gk-temp-inf", gk("temperature=inf"), "--gen_kwargs temperature"),
    ("gk-top_p", gk("top_p=2"), "--gen_kwargs top_p"),
    ("gk-do_sample", gk("do_sample=maybe"), "--gen_kwargs do_sample"),
    ("gk-twice", gk("top_k=1,top_k=2"), "--gen_kwargs: key 'top_k' given twice"),
    ("gk-nan", gk("foo=nan"), "--gen_kwargs foo: expected a finite number"),
    # numbers
    ("limit-nan", run("--limit", "nan"), "--limit"),
    ("limit-inf", run("--limit", "inf"), "--limit"),
    ("limit-neg-inf", run("--limit", "-inf"), "--limit"),
    ("limit-zero", run("--limit", "0"), "--limit"),
    ("limit-neg", run("--limit", "-3"), "--limit"),
    ("limit-1.5", run("--limit", "1.5"), "neither a whole number of documents nor a fraction"),
    ("limit-word", run("--limit", "ten"), "--limit: expected a number"),
    ("batch-0", run("--batch_size", "0"), "--batch_size: expected an integer >= 1 or auto"),
    ("batch-neg", run("--batch_size", "-1"), "--batch_size"),
    ("batch-float", run("--batch_size", "1.5"), "--batch_size"),
    ("batch-word", run("--batch_size", "lots"), "--batch_size"),
    ("batch-auto0", run("--batch_size", "auto:0"), "--batch_size: expected auto:N"),
    ("batch-autox", run("--batch_size", "auto:x"), "--batch_size: expected auto:N"),
    ("fewshot-neg", run("--num_fewshot", "-1"), "--num_fewshot: expected an integer >= 0"),
    ("fewshot-word", run("--num_fewshot", "x"), "--num_fewshot"),
    ("fewshot-float", run("--num_fewshot", "1.5"), "--num_fewshot"),
    ("seed-neg", run("--seed", "-1"), "--seed: expected an integer >= 0"),
    ("seed-word", run("--seed", "abc"), "--seed"),
    ("seed-huge", run("--seed", str(2**33)), "--seed"),
    ("bootstrap-neg", run("--bootstrap_iters", "-5"), "--bootstrap_iters"),
    ("device-nonsense", run("--device", "nonsense"), "--device: expected cpu, cuda"),
    ("device-cuda7", run("--device", "cuda:7"), "--device cuda:7"),
    ("device-cpu0", run("--device", "cpu:0:1"), "--device"),
    ("shard-0", run("--shard", "0/2"), "--shard"),
    ("shard-ab", run("--shard", "a/b"), "--shard"),
    ("shard-32", run("--shard", "3/2"), "--shard"),
    ("verbosity", ["--verbosity", "LOUD", *run()], "--verbosity"),
    ("max_rows-word", run("--max_rows", "x"), "--max_rows"),
    ("unknown-flag", run("--tasksx", "y"), "unrecognized arguments"),
    ("list-choice", ["list", "everything"], "invalid choice"),
    ("include-missing", ["run", "--tasks", "toy_mc", "--include_path", "/nonexistent/tasks", "--output_path", "{out}"], "--include_path: no such folder"),
    # intervention specs
    ("iv-unknown", iv("sbz"), "unknown intervention 'sbz'"),
    ("iv-param-typo", iv("sbs:txt=hi"), "did you mean 'text'"),
    ("iv-param-type", iv("sbs:max_gen_toks=many"), "parameter 'max_gen_toks': expected int"),
    ("iv-scale-inf", iv("grad_mask:scale=inf"), "parameter 'scale': expected float"),
    ("iv-scale-nan", iv("grad_mask:scale=nan"), "parameter 'scale': expected float"),
    ("iv-m-neg-inf", iv("grad_mask:m=-inf"), "parameter 'm'"),
    ("iv-unclosed", iv("grad_mask:m=[1e-5"), "unbalanced brackets"),
    ("iv-unclosed-int", iv("localizer:seeds=[1,2"), "unbalanced brackets"),
    ("iv-range-cap", iv("grad_mask:m=0:1e-4:1e-9"), "expands to 100001 rows, more than the cap of 1000"),
    ("iv-int-range-cap", iv("localizer:seeds=0:5000"), "more than the cap of 1000"),
    ("iv-grid-cap", iv("grad_mask:m=0:39e-6:1e-6,scale=0:39:1"), "the parameter grid expands to 1600 rows"),
    ("iv-max-rows", iv("none", "sbs", "cot", "--max_rows", "2"), "more than 2 rows"),
    ("iv-range-reversed", iv("grad_mask:m=1e-4:0:1e-5"), "malformed range"),
    ("iv-range-inf", iv("grad_mask:m=0:inf:1"), "malformed range"),
    ("iv-empty-name", iv(":x=1"), "missing the name"),
    ("iv-malformed", iv("sbs:text"), "malformed parameter 'text'"),
    ("iv-twice", iv("sbs:text=a,text=b"), "given twice"),
    ("iv-none-param", iv("none:x=1"), "unknown parameter 'x'"),
    ("iv-choice", iv("grad_mask:control=randm"), "did you mean 'random'"),
    ("iv-empty-list", iv("grad_mask:m=[]"), "empty list"),
    # output directory
    ("out-is-file", ["run", "--tasks", "toy_mc", "--include_path", "{toy}", "--output_path", "{file}"], "is a file; expected a directory"),
    ("out-under-file", ["run", "--tasks", "toy_mc", "--include_path", "{toy}", "--output_path", "{file}/sub"], "cannot create it"),
    ("out-unwritable", ["run", "--tasks", "toy_mc", "--include_path", "{toy}", "--output_path", "/proc/tomh_out"], "cannot create it"),
    ("manifest-list", run(), "manifest.json: expected a JSON object"),
    ("manifest-garbage", run(), "manifest.json is not readable JSON"),
    ("manifest-other-matrix", run(), "holds results of a different matrix"),
    ("cells-no-manifest", run(), "has cells but no manifest"),
    ("locked", run(), "is in use by another run"),
    # table
    ("table-missing", ["table", "/nonexistent"], "not a tom-harness output directory"),
    ("table-manifest-list", ["table", "{out}"], "manifest.json: expected a JSON object"),
    ("table-merge", ["table", "{out}", "{out2}"], "hold different matrices (they differ in: limit)"),
    ("table-dest-file", ["table", "{out}", "--dest", "{file}"], "--dest"),
    # data commands
    ("fetch-notaurl", ["data", "fetch", "tomi", "--base_url", "notaurl", "--data_dir", "{tmp}/d"], "--base_url: expected an http(s)://"),
    ("fetch-ftp", ["data", "fetch", "tomi", "--base_url", "ftp://example.org/x", "--data_dir", "{tmp}/d"], "--base_url"),
    ("fetch-unknown", ["data", "fetch", "tomix", "--data_dir", "{tmp}/d"], "unknown dataset 'tomix'"),
    ("fetch-no-names", ["data", "fetch"], "the following arguments are required"),
    ("data-no-action", ["data"], "usage: tom-harness data"),
    # config files
    ("cfg-missing", run("--config", "/nonexistent.yaml"), "--config: no such file"),
    ("cfg-tasks-int", ["run", "--config", "{cfg}", "--output_path", "{out}"], "config key 'tasks': expected a task or a list of tasks, got 5"),
    ("cfg-tasks-int-item", ["run", "--config", "{cfg}", "--output_path", "{out}"], "config key 'tasks': expected a list of tasks"),
    ("cfg-batch-list", run("--config", "{cfg}"), "config key 'batch_size'"),
    ("cfg-not-utf8", run("--config", "{cfg}"), "not UTF-8"),
    ("cfg-bad-yaml", run("--config", "{cfg}"), "not valid YAML"),
    ("cfg-top-list", run("--config", "{cfg}"), "expected a mapping"),
    ("cfg-unknown-key", run("--config", "{cfg}"), "unknown key 'interventionz'"),
    ("cfg-chat-maybe", run("--config", "{cfg}"), "config key 'apply_chat_template': expected true or false"),
    ("cfg-log-samples-no", run("--config", "{cfg}"), "config key 'log_samples': expected true or false, got 'no'"),
    ("cfg-plugins", run("--config", "{cfg}"), "--allow_config_plugins"),
    ("cfg-interventions-int", run("--config", "{cfg}"), "config key 'interventions'"),
    ("cfg-model_args-list", run("--config", "{cfg}"), "config key 'model_args'"),
    ("cfg-limit-nan", run("--config", "{cfg}"), "config key 'limit'"),
    ("cfg-seed-word", run("--config", "{cfg}"), "config key 'seed'"),
    ("cfg-gen-eq5", run("--config", "{cfg}"), "config key 'gen_kwargs': malformed item '=5'"),
    ("cfg-output-int", ["run", "--config", "{cfg}"], "config key 'output_path': expected a path"),
    ("cfg-data_dir-list", run("--config", "{cfg}"), "config key 'data_dir'"),
    ("cfg-model-int", run("--config", "{cfg}"), "config key 'model'"),
    ("cfg-device-int", run("--config", "{cfg}"), "config key 'device'"),
    ("cfg-fewshot-neg", run("--config", "{cfg}"), "config key 'num_fewshot'"),
    ("cfg-max_length-abc", run("--config", "{cfg}"), "config key 'model_args' max_length"),
    # data files: registered ones are hash-checked, unregistered ones parsed with a clear message
    ("seedfile-empty-list", ["run", "--tasks", "tomi_seed12", "--data_dir", "{data}", "--output_path", "{out}"], "tomi_seed12.json does not match the registry"),
    ("seedfile-wrong-shape", ["run", "--tasks", "tomi_seed12", "--data_dir", "{data}", "--output_path", "{out}"], "tomi_seed12.json does not match the registry"),
    ("seedfile-not-utf8", ["run", "--tasks", "tomi_seed12", "--data_dir", "{data}", "--output_path", "{out}"], "tomi_seed12.json does not match the registry"),
    ("seedfile-truncated", ["run", "--tasks", "tomi_seed12", "--data_dir", "{data}", "--output_path", "{out}"], "tomi_seed12.json does not match the registry"),
    ("own-empty-list", ["run", "--tasks", "mine", "--include_path", "{own}", "--data_dir", "{data}", "--output_path", "{out}"], "mydata/items.json: the loader produced no documents"),
    ("own-wrong-shape", ["run", "--tasks", "mine", "--include_path", "{own}", "--data_dir", "{data}", "--output_path", "{out}"], "raised KeyError: 'story'"),
    ("own-not-utf8", ["run", "--tasks", "mine", "--include_path", "{own}", "--data_dir", "{data}", "--output_path", "{out}"], "items.json (UnicodeDecodeError"),
    ("task-bad-function", ["run", "--tasks", "mine", "--include_path", "{own}", "--output_path", "{out}"], "loading task 'mine'"),
    ("own-truncated", ["run", "--tasks", "mine", "--include_path", "{own}", "--data_dir", "{data}", "--output_path", "{out}"], "items.json (JSONDecodeError"),
]

CONFIGS = {
    "cfg-tasks-int": "tasks: 5\n",
    "cfg-tasks-int-item": "tasks: [toy_mc, 5]\n",
    "cfg-batch-list": "batch_size: [1]\n",
    "cfg-not-utf8": b"tasks: [toy_mc]\nsystem_instruction: \xff\xfe caf\xe9\n",
    "cfg-bad-yaml": "tasks: [toy_mc\n",
    "cfg-top-list": "- tasks\n",
    "cfg-unknown-key": "interventionz: [none]\n",
    "cfg-chat-maybe": "apply_chat_template: maybe\n",
    "cfg-log-samples-no": 'log_samples: "no"\n',
    "cfg-plugins": "plugins: [os]\n",
    "cfg-interventions-int": "interventions: 5\n",
    "cfg-model_args-list": "model_args: [1, 2]\n",
    "cfg-limit-nan": "limit: .nan\n",
    "cfg-seed-word": "seed: abc\n",
    "cfg-gen-eq5": 'gen_kwargs: "=5"\n',
    "cfg-output-int": "tasks: [toy_mc]\noutput_path: 5\n",
    "cfg-data_dir-list": "data_dir: [a, b]\n",
    "cfg-model-int": "model: 5\n",
    "cfg-device-int": "device: 5\n",
    "cfg-fewshot-neg": "num_fewshot: -1\n",
    "cfg-max_length-abc": "model_args: {pretrained: smollm2-135m, max_length: abc}\n",
}

SEED_FILES = {
    "empty-list": b"[]",
    "wrong-shape": b'[{"x": 1}]',
    "not-utf8": b'[{"story": "caf\xe9"}]',
    "truncated": b'[{"story": "Anna put the ball',
}

OWN_TASK = """task: mine
custom_dataset: !function utils.load
test_split: test
output_type: multiple_choice
doc_to_text: "{{narrative}}\\nQuestion: {{question}}\\nAnswer:"
doc_to_choice: "{{choices}}"
doc_to_target: "{{label}}"
metric_list:
  - {metric: acc, aggregation: mean, higher_is_better: true}
metadata: {version: 1.0, family: tomi}
"""
OWN_UTILS = """from tom_harness.task_yamls.helpers import read_json, to_dataset_dict


def load(**kwargs):
    rows = read_json("mydata", "items.json")
    return to_dataset_dict([{"narrative": r["story"], "question": r["q"], "choices": r["choices"],
                             "label": r["label"]} for r in rows], "mydata/items.json")
"""


def _prepare(name: str, tmp: Path) -> dict[str, str]:
    """Files a case needs; returns the placeholder values."""
    values = {"tmp": str(tmp), "toy": str(TOY_TASKS), "out": str(tmp / "out"), "out2": str(tmp / "out2"),
              "empty": str(tmp / "empty"), "fake": str(tmp / "fake"), "file": str(tmp / "a_file"),
              "cfg": str(tmp / "m.yaml"), "data": str(tmp / "data"), "own": str(tmp / "own")}
    (tmp / "empty").mkdir()
    (tmp / "fake").mkdir()
    (tmp / "fake" / "config.json").write_text("{}")
    (tmp / "a_file").write_text("x")
    out = tmp / "out"
    if name in CONFIGS:
        body = CONFIGS[name]
        (tmp / "m.yaml").write_bytes(body if isinstance(body, bytes) else body.encode())
    if name in ("manifest-list", "table-manifest-list"):
        (out / "cells").mkdir(parents=True)
        (out / "manifest.json").write_text("[1, 2]")
    elif name == "manifest-garbage":
        out.mkdir()
        (out / "manifest.json").write_text('{"spec": ')
    elif name == "manifest-other-matrix":
        out.mkdir()
        (out / "manifest.json").write_text(json.dumps({"schema": 1, "spec": {}, "spec_hash": "0" * 64}))
    elif name == "cells-no-manifest":
        (out / "cells" / "none").mkdir(parents=True)
    elif name == "locked":
        out.mkdir()
        (out / ".tom_harness.lock").write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname()}))
    elif name in ("table-merge", "table-dest-file"):
        for d, limit in ((out, 3), (tmp / "out2", 4)):
            (d / "cells").mkdir(parents=True)
            (d / "manifest.json").write_text(json.dumps({"schema": 1, "spec": {"limit": limit}, "spec_hash": str(limit)}))
    if name.startswith("seedfile-"):
        (tmp / "data" / "tomi").mkdir(parents=True)
        (tmp / "data" / "tomi" / "tomi_seed12.json").write_bytes(SEED_FILES[name[9:]])
    if name.startswith("own-"):
        (tmp / "data" / "mydata").mkdir(parents=True)
        (tmp / "data" / "mydata" / "items.json").write_bytes(SEED_FILES[name[4:]])
        (tmp / "own").mkdir()
        (tmp / "own" / "mine.yaml").write_text(OWN_TASK)
        (tmp / "own" / "utils.py").write_text(OWN_UTILS)
    if name.startswith("task-"):
        (tmp / "own").mkdir()
        (tmp / "own" / "mine.yaml").write_text(OWN_TASK.replace("utils.load", "utils.nothere"))
        (tmp / "own" / "utils.py").write_text(OWN_UTILS)
    return values


@pytest.fixture(autouse=True)
def _toy_data(tmp_path_factory, monkeypatch):
    path = tmp_path_factory.mktemp("toy") / "toy.jsonl"
    path.write_text(json.dumps({"narrative": "S.", "question": "Q?", "choices": ["a", "b"], "label": 0}) + "\n")
    monkeypatch.setenv("TOY_TASK_DATA", str(path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def test_the_table_is_large_enough():
    assert len(CASES) >= 100
    assert len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("name, argv, needle", CASES, ids=[c[0] for c in CASES])
def test_bad_input_exits_2_with_a_message(name, argv, needle, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TOM_HARNESS_DATA", os.environ.get("TOM_HARNESS_DATA", ""))  # restored after --data_dir
    values = _prepare(name, tmp_path)
    code = main([a.format(**values) for a in argv])
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert code == 2, text[-2000:]
    assert "Traceback" not in text
    assert needle in text, text[-2000:]


def test_debug_shows_the_traceback(tmp_path, capsys):
    values = _prepare("limit", tmp_path)
    assert main([a.format(**values) for a in run("--limit", "nan", "--debug")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and "--limit" in err


def test_a_limit_fraction_below_one_is_lm_evals_fraction():
    from tom_harness.spec.option_checks import check_limit

    assert check_limit("0.25") == 0.25 and check_limit("3") == 3 and check_limit(2.0) == 2


def test_typed_model_args_reach_backends_as_numbers():
    from tom_harness.spec.matrix import build_spec

    spec = build_spec({}, {"model_args": "pretrained=smollm2-135m,max_length=512,revision=123,trust_remote_code=True",
                           "tasks": "toy_mc"})
    assert spec.model_args == {"pretrained": "smollm2-135m", "max_length": 512, "revision": "123", "trust_remote_code": True}


def test_duplicate_tasks_and_rows_run_once_with_a_note(caplog):
    from tom_harness.spec.matrix import build_spec
    from tom_harness.host.plugin_host import get_host
    from tom_harness.run.runner import expand_interventions

    spec = build_spec({}, {"tasks": "toy_mc,toy_gen,toy_mc"})
    assert spec.tasks == ["toy_mc", "toy_gen"]
    rows = expand_interventions(get_host(), ["none", "sbs", "none", "grad_mask:m=[1e-5,1e-5]"])
    assert [r.label() for r in rows] == ["none", "sbs", "grad_mask"]
    assert "given more than once" in caplog.text and "appears more than once" in caplog.text
