"""``tom-harness prompts`` writes the prompts a run sends, without loading weights when no row
needs model calls."""
from __future__ import annotations

import json

import pytest

from tom_harness.run.dryrun import dry_run
from tom_harness.spec.matrix import build_spec
from tom_harness.host.plugin_host import load_host
from tom_harness.run.runner import MatrixRunner
from tom_harness.results.outdir import intervention_id

ROWS = ["none", "sbs", "enigma:nkb=cache,faithful=true"]


def _context(sample: dict) -> str:
    """The context string of a logged lm-eval sample (``arguments`` nests it)."""
    args = sample["arguments"]
    while not isinstance(args, str):
        args = next(iter(args.values())) if isinstance(args, dict) else args[0]
    return args


@pytest.mark.parametrize("chat", [True, False])
def test_dry_run_prompts_equal_what_the_run_sends(tiny_model_dir, tiny_handle, shared_data, tmp_path, chat):
    host = load_host()
    spec = build_spec({}, {"model_args": f"pretrained={tiny_model_dir}", "tasks": "tomi_seed12",
                           "interventions": ROWS, "limit": 3, "gen_kwargs": "max_gen_toks=2",
                           "apply_chat_template": chat})
    from tom_harness.cache.artifacts import ArtifactCache

    summary = dry_run(spec, host, tmp_path / "P", ArtifactCache(tmp_path / "cache"))
    assert summary["model_loaded"] is False and summary["model_calls"] == 0
    assert [w["prompts"] for w in summary["written"]] == [3, 3, 3]
    MatrixRunner(spec, host, tmp_path / "out", handle=tiny_handle, progress=False, log_samples=True,
                 cache=ArtifactCache(tmp_path / "cache")).run()
    for row in ROWS:
        iv_id = intervention_id(row)
        dry = [json.loads(ln) for ln in (tmp_path / "P" / iv_id / "tomi_seed12.jsonl").read_text().splitlines()]
        ran = [json.loads(ln) for ln in (tmp_path / "out" / "cells" / iv_id / "samples" / "tomi_seed12"
                                         / "tomi_seed12.jsonl").read_text().splitlines()]
        sent = {s["doc_id"]: _context(s) for s in ran}
        assert {d["doc_id"]: d["prompt"] for d in dry} == sent
        if chat:
            assert all(d["prompt"].startswith("<|im_start|>") for d in dry)
    enigma = [json.loads(ln) for ln in (tmp_path / "P" / intervention_id(ROWS[2]) / "tomi_seed12.jsonl").read_text().splitlines()]
    assert enigma[0]["edit"]["chain"] == ["Emily"] and "The following events are known to Emily" in enigma[0]["prompt"]
    assert "edit" not in json.loads((tmp_path / "P" / "none" / "tomi_seed12.jsonl").read_text().splitlines()[0])


def test_dry_run_loads_the_model_only_for_model_calls(tiny_model_dir, shared_data, tmp_path):
    """simtom asks the model for each character's perspective: the dry run loads the weights,
    makes those calls through the cached caller, and a second dry run finds them cached."""
    from tom_harness.cache.artifacts import ArtifactCache

    host = load_host()
    spec = build_spec({}, {"model_args": f"pretrained={tiny_model_dir}", "tasks": "tomi_seed12",
                           "interventions": ["simtom"], "limit": 1})
    first = dry_run(spec, host, tmp_path / "P", ArtifactCache(tmp_path / "cache"))
    assert first["model_loaded"] is True and first["model_calls"] > 0
    again = dry_run(spec, host, tmp_path / "P2", ArtifactCache(tmp_path / "cache"))
    assert again["model_calls"] == 0
    assert (tmp_path / "P" / "simtom" / "tomi_seed12.jsonl").read_text() == (
        tmp_path / "P2" / "simtom" / "tomi_seed12.jsonl").read_text()
