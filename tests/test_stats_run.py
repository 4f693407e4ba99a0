"""Integration: a tiny-model run of none and sbs on ToMi seed 12 writes per-item files, paired
tests and marks, and ``tom-harness table`` rebuilds them identically from the files alone."""
from __future__ import annotations

import gzip
import json

import pandas as pd
import pytest

from tom_harness.cli.main import main
from tom_harness.results.items import read_items
from tom_harness.spec.matrix import build_spec
from tom_harness.host.plugin_host import load_host
from tom_harness.run.runner import MatrixRunner
from tom_harness.results.stats import mcnemar_exact

LIMIT = 8


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, tiny_model_dir, shared_data):
    from tom_harness.backends.loading import load_hf

    handle = load_hf({"pretrained": str(tiny_model_dir), "max_length": 512}, "cpu", 8)
    out = tmp_path_factory.mktemp("stats_run")
    spec = build_spec({}, {"model_args": "pretrained=tiny", "tasks": "tomi_seed12", "interventions": ["none", "sbs"],
                           "limit": LIMIT, "gen_kwargs": "max_gen_toks=8", "apply_chat_template": True})
    MatrixRunner(spec, load_host(), out, handle=handle, progress=False).run()  # no --log_samples
    return out


def test_items_files_are_written_without_log_samples(run_dir):
    assert not list(run_dir.glob("cells/*/samples"))
    for iv in ("none", "sbs"):
        path = run_dir / "cells" / iv / "tomi_seed12.items.jsonl.gz"
        header = json.loads(gzip.open(path, "rt").readline())
        assert header["metrics"]["tomi_seed12"]["acc"]["aggregation"] == "mean"
        items = read_items(path)
        assert len(items.rows) == LIMIT
        row = items.rows[0]
        assert isinstance(row["target"], str) and row["target"]  # the gold container
        assert isinstance(row["response"], str) and row["answer"] is not None and len(row["doc_hash"]) == 16
        cell = json.loads((run_dir / "cells" / iv / "tomi_seed12.json").read_text())
        mean = sum(r["metrics"]["acc"] for r in items.rows) / LIMIT
        assert mean == pytest.approx(cell["results"]["results"]["tomi_seed12"]["acc,none"])


def test_table_has_tests_marks_and_rebuilds_identically(run_dir, capsys):
    assert main(["table", str(run_dir)]) == 0
    printed = capsys.readouterr().out
    first = (run_dir / "leaderboard.csv").read_text()
    table = pd.read_csv(run_dir / "leaderboard.csv")
    for col in ("p_value", "p_adjusted", "delta_ci95_low", "delta_ci95_high", "test", "n_pairs", "p_family"):
        assert col in table.columns
    acc = table[(table.intervention == "sbs") & (table.metric == "acc") & (table.subtask == "tomi_seed12")].iloc[0]
    a = [r["metrics"]["acc"] for r in read_items(run_dir / "cells/none/tomi_seed12.items.jsonl.gz").rows]
    b = [r["metrics"]["acc"] for r in read_items(run_dir / "cells/sbs/tomi_seed12.items.jsonl.gz").rows]
    assert acc.test == "mcnemar_exact" and acc.n_pairs == LIMIT and acc.p_family == "headline"
    assert acc.p_value == pytest.approx(mcnemar_exact(a, b))
    assert acc.p_adjusted == pytest.approx(acc.p_value)  # one headline cell: Holm changes nothing
    assert acc.delta_ci95_low <= acc.delta_vs_none <= acc.delta_ci95_high
    assert f"n={LIMIT}" in printed and "Holm-adjusted" in printed and "exact McNemar" in printed
    md = (run_dir / "leaderboard.md").read_text()
    assert "Holm-adjusted" in md and "Holm-adjusted" in (run_dir / "leaderboard.html").read_text()
    assert main(["table", str(run_dir)]) == 0  # rebuilt from cell + item files: same bytes
    assert (run_dir / "leaderboard.csv").read_text() == first


def test_compare_two_rows_of_the_run(run_dir, tmp_path, capsys):
    assert main(["compare", str(run_dir), "--rows", "none", "sbs", "--dest", str(tmp_path)]) == 0
    summary = pd.read_csv(tmp_path / "compare.csv")
    assert set(summary.compared) == {"answer", "correct (acc)"}
    assert (summary.n == LIMIT).all() and summary.agreement.between(0, 1).all()
    assert "Cohen" not in capsys.readouterr().err
    assert (tmp_path / "compare.md").read_text().startswith("# Per-item agreement")
