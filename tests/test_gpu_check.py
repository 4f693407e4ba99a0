"""benchmarks/gpu_check.py runs at toy size on CPU, so the GPU script cannot rot between loans."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_gpu_check_toy_on_cpu(tmp_path):
    out = tmp_path / "gpu_check"
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / "gpu_check.py"), "--device", "cpu", "--toy",
                           "--out", str(out)], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads((out / "gpu_check.json").read_text())
    toy = report["shapes"]["toy"]
    assert toy["fisher"]["tokens"] == 4 * 32 and toy["fisher"]["tokens_per_s"] > 0
    assert [s["m"] for s in toy["switch"]] == [1e-5, 1e-3]
    assert toy["switch"][1]["entries"] > 0 and toy["switch"][1]["in_place"]["n"] == 3
    assert toy["restore_check"]["bytes"] >= 4 * toy["params"]  # float32 weights plus buffers (rotary tables)
    assert toy["extraction"]["stimuli"] == 8
    assert set(toy["cell"]) == {"tomi_gen", "gpu_check_ll"}
    assert all(c["harness"]["n"] == c["bare_lm_eval"]["n"] == 3 for c in toy["cell"].values())
    assert "load_before" in report and report["load"]
    table = (out / "gpu_check.md").read_text()
    assert "| toy | Fisher maps |" in table and "harness / bare lm-eval" in table
    assert table in done.stdout
