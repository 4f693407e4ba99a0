"""One end-to-end matrix on the real SmolLM2-135M alias and real benchmark files, through the CLI."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

pytestmark = pytest.mark.slow


def _run(out, extra_env=None, **popen):
    cmd = [
        sys.executable, "-m", "tom_harness.cli", "run", "--model", "hf", "--model_args", "pretrained=smollm2-135m",
        "--interventions", "none", "sbs", "--tasks", "tomi_mc_seed12,hitom_mc_seed12", "--limit", "4",
        "--batch_size", "8", "--device", "cpu", "--output_path", str(out), "--no_progress",
    ]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **(extra_env or {})}, **popen)


def test_smollm2_matrix_interrupt_and_resume(shared_data, tmp_path):
    out = tmp_path / "out"
    proc = _run(out)
    first = out / "cells" / "none" / "tomi_mc_seed12.json"
    deadline = time.time() + 400
    while not first.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.5)
    assert first.exists(), proc.communicate()[1][-3000:]
    written = first.stat().st_mtime_ns
    proc.send_signal(signal.SIGINT)  # Ctrl-C after the first cell
    proc.communicate(timeout=120)
    leftovers = [p for p in out.rglob("*.tmp")]
    assert leftovers == []  # no partial files
    json.loads(first.read_text())  # the finished cell is intact

    proc = _run(out)
    stdout, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 0, stderr[-3000:]
    assert first.stat().st_mtime_ns == written  # not recomputed
    table = pd.read_csv(out / "leaderboard.csv")
    assert {"intervention", "task", "metric", "value"} <= set(table.columns)
    acc = table[(table.metric == "acc") & (table.subtask == table.task)]
    assert set(acc.intervention) == {"none", "sbs"} and set(acc.task) == {"tomi_mc_seed12", "hitom_mc_seed12"}
    assert acc.value.between(0, 1).all()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["model"] == "smollm2-135m" and len(manifest["model_fingerprint"]) == 64
