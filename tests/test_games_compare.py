"""``compare`` over replayed runs: the released counts -> replay files -> cells -> the transfer
per scenario and the two-sided distribution rows, through the command line as a user runs it."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from tom_harness.cli.main import main

MODELS = ("llama2_70b_chat", "llama2_7b_chat", "llama2_7b_chat_finetuned")
#: the stated formula on shares (tests/test_games_transfer.py pins all scenarios; these are the first 6)
EXPECTED = {"sports_prison": 0.1297071129707113, "sports_delight": 0.06598984771573605,
            "sports_staghunt": 0.1092436974789916, "sports_snowdrift": 0.14345991561181433,
            "roomsharing_prison": 0.22583625947144703, "roomsharing_delight": 0.6796090143904427}


@pytest.fixture(scope="module")
def replayed(tmp_path_factory, shared_data):
    import os

    os.environ["TOM_HARNESS_DATA"] = str(shared_data)
    root = tmp_path_factory.mktemp("lore")
    assert main(["replay-from-counts", "--dest", str(root / "replay")]) == 0
    for m in MODELS:
        assert main(["run", "--model", "replay", "--model_args", f"path={root / 'replay' / m}.jsonl,missing=short",
                     "--tasks", "sg_oos_context_paper", "--limit", "6", "--repeats", "300",
                     "--output_path", str(root / m), "--no_progress"]) == 0
    return root


def test_transfer_from_replayed_runs(replayed, capsys):
    r = replayed
    code = main(["compare", str(r / MODELS[0]), str(r / MODELS[1]), str(r / MODELS[2]), "--base", MODELS[1],
                 "--tuned", MODELS[2], "--teacher", MODELS[0], "--dest", str(r / "transfer")])
    assert code == 0
    frame = pd.read_csv(r / "transfer" / "compare.csv")
    per = frame[frame["doc"] != "(mean)"].set_index("doc")
    assert per["transfer"].to_dict() == pytest.approx(EXPECTED, abs=1e-12)
    assert per.loc["roomsharing_prison", "n_base"] == 295  # the 7B's 295 released answers, scored as such
    mean = frame[(frame["doc"] == "(mean)") & (frame["task"] == "sg_oos_context_paper")]["transfer"].iloc[0]
    assert mean == pytest.approx(sum(EXPECTED.values()) / 6)
    assert (r / "transfer" / "compare_transfer.png").stat().st_size > 10_000
    assert "mean transfer" in (r / "transfer" / "compare.md").read_text()
    assert "sg_oos_context_paper: mean transfer" in capsys.readouterr().out


def test_two_runs_get_distribution_rows(replayed):
    r = replayed
    assert main(["compare", str(r / MODELS[1]), str(r / MODELS[0]), "--dest", str(r / "pair")]) == 0
    frame = pd.read_csv(r / "pair" / "compare.csv")
    rows = frame[frame["compared"] == "distribution (share_c)"].set_index("doc")
    assert len(rows) == 6
    sp = rows.loc["sports_prison"]  # 7B 239/300 C, 70B 0/300
    assert sp["left_share"] == pytest.approx(239 / 300) and sp["right_share"] == 0.0
    assert sp["diff"] == pytest.approx(-239 / 300) and sp["diff_low"] <= sp["diff"] <= sp["diff_high"]
    assert sp["test"] == "fisher_exact" and sp["p"] < 1e-50
    assert "Answer distributions" in (r / "pair" / "compare.md").read_text()


def test_transfer_flags_are_checked(replayed, capsys):
    r = replayed
    assert main(["compare", str(r / MODELS[0]), "--base", "none"]) == 2
    assert "missing --tuned, --teacher" in capsys.readouterr().err
    assert main(["compare", str(r / MODELS[0]), str(r / MODELS[1]), str(r / MODELS[2]), "--base", "llama2_7b",
                 "--tuned", MODELS[2], "--teacher", MODELS[0]]) == 2
    assert "did you mean" in capsys.readouterr().err


def test_replay_cells_record_the_file(replayed):
    import hashlib

    r = replayed
    cell = json.loads((r / MODELS[1] / "cells" / "none" / "sg_oos_context_paper.json").read_text())
    digest = hashlib.sha256((r / "replay" / f"{MODELS[1]}.jsonl").read_bytes()).hexdigest()
    assert cell["model_fingerprint"] == f"sha256:{digest}" and cell["model"] == f"replay:{MODELS[1]}"
