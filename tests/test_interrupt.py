"""Kill a real run at random (seeded) points, resume it, and get the uninterrupted table; two
runs started together into one output directory never compute a cell twice."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from tests.test_runner import TOY_TASKS

KEY = ["intervention", "task", "subtask", "metric", "filter"]


def _argv(model: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "tom_harness.cli", "run", "--model_args", f"pretrained={model},max_length=512",
            "--tasks", "toy_mc,toy_other", "--interventions", "none", "sbs", "sbs:text=Consider it.",
            "--include_path", str(TOY_TASKS), "--limit", "3", "--device", "cpu", "--no_progress",
            "--output_path", str(out)]


@pytest.fixture()
def env(tmp_path):
    data = tmp_path / "toy.jsonl"
    data.write_text("".join(json.dumps({"narrative": f"Anna put the ball in box {i}.", "question": "Where?",
                                        "choices": ["box", "basket"], "label": 0}) + "\n" for i in range(4)))
    return {**os.environ, "TOY_TASK_DATA": str(data), "TOM_HARNESS_CACHE": str(tmp_path / "cache")}


def _table(out: Path) -> pd.DataFrame:
    t = pd.read_csv(out / "leaderboard.csv")
    return t[t.status != "summary"].sort_values(KEY).reset_index(drop=True)[KEY + ["value", "status", "n"]]


def _cells_run(stdout: str) -> int:
    line = next(l for l in stdout.splitlines() if "cell(s) run" in l)
    return int(line.split()[0])


def test_concurrent_runs_then_random_kills_resume_to_the_same_table(tiny_model_dir, tmp_path, env):
    base = tmp_path / "base"
    # two runs into one directory at once: one holds the lock, the other exits 2 (or, if it
    # arrives after the first finished, finds every cell done); no cell is computed twice
    procs = [subprocess.Popen(_argv(tiny_model_dir, base), env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    t0 = time.time()
    results = [p.communicate(timeout=600) for p in procs]
    elapsed = time.time() - t0
    codes = [p.returncode for p in procs]
    assert sorted(codes) in ([0, 2], [0, 0]), [r[1][-2000:] for r in results]
    ran = [_cells_run(out) for (out, _), code in zip(results, codes) if code == 0]
    assert sum(ran) == 4  # 6 cells, 2 of them n/a (sbs on the 'other' family)
    for (_, err), code in zip(results, codes):
        if code == 2:
            assert "is in use by another run" in err and "Traceback" not in err
    expected = _table(base)

    rng = random.Random(20261201)
    for trial, sig in enumerate((signal.SIGKILL, signal.SIGINT)):
        out = tmp_path / f"trial{trial}"
        proc = subprocess.Popen(_argv(tiny_model_dir, out), env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        while not (out / "manifest.json").exists() and proc.poll() is None:
            time.sleep(0.05)
        time.sleep(rng.uniform(0, elapsed / 2))
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=600)
        assert "Traceback" not in err, err[-3000:]
        assert not list(out.rglob("*.tmp")) or sig == signal.SIGKILL  # SIGINT cleans its temp files
        for cell in out.glob("cells/*/*.json"):
            json.loads(cell.read_text())  # every cell file on disk is complete JSON
        again = subprocess.run(_argv(tiny_model_dir, out), env=env, capture_output=True, text=True, timeout=600)
        assert again.returncode == 0, again.stderr[-3000:]
        pd.testing.assert_frame_equal(_table(out), expected)
