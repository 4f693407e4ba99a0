"""``tom-harness publish``: one tracked run per row, offline: W&B in offline mode (its run files read
back with a reader of their log format written here), MLflow on a ``file:`` store, the Hub stubbed
at ``huggingface_hub.HfApi``."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.test_runner import TOY_TASKS
from tom_harness.cli.main import main
from tom_harness.results.publish import row_runs

ROWS = ["none", "sbs"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, tiny_model_dir):
    """A real run of the tiny model: 2 rows x 2 tasks, sbs n/a on the 'other' family."""
    import os

    tmp = tmp_path_factory.mktemp("publish")
    data = tmp / "toy.jsonl"
    data.write_text("".join(json.dumps({"narrative": f"Anna put the ball in box {i}.", "question": "Where?",
                                        "choices": ["box", "basket"], "label": i % 2}) + "\n" for i in range(4)))
    os.environ["TOY_TASK_DATA"] = str(data)
    out = tmp / "out"
    assert main(["run", "--model_args", f"pretrained={tiny_model_dir},max_length=512", "--tasks", "toy_mc,toy_other",
                 "--interventions", *ROWS, "--include_path", str(TOY_TASKS), "--limit", "4", "--device", "cpu",
                 "--no_progress", "--output_path", str(out)]) == 0
    return out


def _expected(out: Path) -> dict[str, dict[str, float]]:
    """Per row label, the metrics its ok cells hold, read straight from the cell files."""
    want: dict[str, dict[str, float]] = {}
    for path in out.glob("cells/*/*.json"):
        cell = json.loads(path.read_text())
        if cell["status"] != "ok":
            continue
        for task, values in cell["results"]["results"].items():
            for key, value in values.items():
                metric, _, filt = key.partition(",")
                if isinstance(value, (int, float)) and metric != "sample_len":
                    name = f"{task}/{metric}" + (f"/{filt}" if filt != "none" else "")
                    want.setdefault(cell["intervention"]["label"], {})[name] = float(value)
    return want


def test_rows_merge_their_cells(run_dir):
    manifest, runs = row_runs(run_dir)
    assert [r.label for r in runs] == ROWS and manifest["spec"]["interventions"] == ROWS
    assert runs[0].tasks == ["toy_mc", "toy_other"] and runs[1].not_applicable == ["toy_other"]
    assert {r.label: r.metrics() for r in runs} == _expected(run_dir)


def test_mlflow_file_store_gets_one_run_per_row(run_dir, tmp_path, capsys):
    import mlflow

    uri = f"file:{tmp_path / 'mlruns'}"
    assert main(["publish", str(run_dir), "--to", "mlflow", "--tracking_uri", uri, "--project", "tomh-test"]) == 0
    assert capsys.readouterr().out.count("MLflow run:") == 2
    client = mlflow.tracking.MlflowClient(uri)
    runs = client.search_runs([client.get_experiment_by_name("tomh-test").experiment_id])
    got = {r.data.tags["tom_harness.row"]: r for r in runs}
    assert sorted(got) == ROWS
    for label, metrics in _expected(run_dir).items():
        assert got[label].data.metrics == pytest.approx(metrics)
    assert got["sbs"].data.params["iv.text"] == "Let's think step by step."
    assert got["sbs"].data.tags["tom_harness.not_applicable"] == "toy_other"


def _wandb_records(path: Path) -> list[bytes]:
    """The records of a W&B run file: a 7-byte ':W&B' header, then a LevelDB-style log of 32 KiB
    blocks, each record chunk behind a 7-byte header (crc32c, length, type: 1 full, 2 first,
    3 middle, 4 last)."""
    data = path.read_bytes()
    assert data[:4] == b":W&B"
    pos, chunk, out = 7, b"", []
    while pos + 7 <= len(data):
        left = 32768 - pos % 32768
        kind = data[pos + 6] if left >= 7 else 0
        if kind == 0:  # block trailer / padding
            pos += left
            continue
        length = int.from_bytes(data[pos + 4:pos + 6], "little")
        if pos + 7 + length > len(data):  # still being written
            break
        chunk += data[pos + 7:pos + 7 + length]
        pos += 7 + length
        if kind in (1, 4):
            out.append(chunk)
            chunk = b""
    return out


def test_wandb_offline_gets_one_run_per_row(run_dir, tmp_path, monkeypatch):
    from wandb.proto import wandb_internal_pb2 as pb

    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    monkeypatch.setenv("WANDB_SILENT", "true")
    assert main(["publish", str(run_dir), "--to", "wandb"]) == 0
    files = sorted(tmp_path.glob("wandb/offline-run-*/run-*.wandb"))
    assert len(files) == 2

    def records(f: Path) -> list:
        out = []
        for blob in _wandb_records(f):
            rec = pb.Record()
            rec.ParseFromString(blob)
            out.append(rec)
        return out

    deadline = time.time() + 60  # wandb-core may still be writing the log when finish() returns
    while time.time() < deadline and not all(any(r.WhichOneof("record_type") == "exit" for r in records(f)) for f in files):
        time.sleep(0.5)
    seen = {}
    for f in files:
        history, config = {}, {}
        for rec in records(f):
            kind = rec.WhichOneof("record_type")
            if kind == "history":
                history.update({i.key or "/".join(i.nested_key): json.loads(i.value_json) for i in rec.history.item})
            elif kind in ("run", "config"):
                items = rec.run.config.update if kind == "run" else rec.config.update
                config.update({i.key: json.loads(i.value_json) for i in items})
        row = config["row"]["value"] if isinstance(config["row"], dict) else config["row"]
        seen[row] = {k: v for k, v in history.items() if "/" in k and not k.startswith(("evaluation/", "_"))}
    assert sorted(seen) == ROWS
    for label, metrics in _expected(run_dir).items():  # WandbLogger drops the ',none' filter as we do
        assert {k: v for k, v in seen[label].items() if not k.endswith("sample_len")} == pytest.approx(metrics)


class _Hub:
    """Records what publish asks of ``huggingface_hub.HfApi`` (the network stays untouched)."""

    calls: list[tuple[str, dict]] = []

    def create_repo(self, **kw):
        self.calls.append(("create_repo", kw))

    def create_commit(self, **kw):
        self.calls.append(("create_commit", kw))


def test_hub_upload_writes_one_results_file_per_row(run_dir, monkeypatch, capsys):
    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "HfApi", _Hub)
    _Hub.calls = []
    assert main(["publish", str(run_dir), "--to", "hub", "--repo_id", "me/tomh-results"]) == 0
    (kind1, repo), (kind2, commit) = _Hub.calls
    assert kind1 == "create_repo" and repo == {"repo_id": "me/tomh-results", "repo_type": "dataset", "private": True,
                                                "exist_ok": True}
    files = {op.path_in_repo: json.loads(op.path_or_fileobj) for op in commit["operations"]}
    rows = {v["row"]: v for k, v in files.items() if k.endswith("/results.json")}
    assert sorted(rows) == ROWS and any(k.endswith("/manifest.json") for k in files)
    for label, metrics in _expected(run_dir).items():
        assert rows[label]["metrics"] == pytest.approx(metrics)
    assert main(["publish", str(run_dir), "--to", "hub", "--repo_id", "nameonly"]) == 2
    assert main(["publish", str(run_dir), "--to", "mlflw"]) == 2
    assert "did you mean: mlflow" in capsys.readouterr().err
