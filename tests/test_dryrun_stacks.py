"""``tom-harness prompts`` on stacked rows: every built-in stack shape shows the prompt and the
generation budget the run sends (the prompt parts' edits), without loading weights."""
from __future__ import annotations

import json

from tom_harness.cache.artifacts import ArtifactCache
from tom_harness.host.plugin_host import load_host
from tom_harness.host.stack import prompt_parts
from tom_harness.plugins.baselines.cot import COT_INSTRUCTION
from tom_harness.plugins.builtin import SBS_TEXT
from tom_harness.results.outdir import intervention_id
from tom_harness.run.dryrun import dry_run
from tom_harness.run.runner import MatrixRunner
from tom_harness.spec.matrix import build_spec
from tests.test_adapter import adapter_dir  # noqa: F401  (fixture)

TASK = "tomi_seed12"


def _rows(adapter: str) -> dict[str, str]:
    """One row per stack shape (kind -> spec)."""
    return {
        "weights+prompts": "grad_mask:m=1e-5,n_tom=2,n_generic=2+cot:max_gen_toks=24",
        "activations+prompts": "localizer:pct=1+sbs:max_gen_toks=20",
        "prompts": "sbs+cot:max_gen_toks=24",
        "adapter+prompts": f"adapter:path={adapter}+sbs",
    }


def _read(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _sent(sample: dict) -> tuple[str, dict]:
    """The context and generation arguments of a logged generate_until sample."""
    ((context, gen_kwargs),) = sample["arguments"]
    return context, dict(gen_kwargs)


def test_dry_run_of_every_stack_shape_equals_the_run(tiny_model_dir, tiny_handle, adapter_dir, shared_data, tmp_path):  # noqa: F811
    host = load_host()
    rows = _rows(str(adapter_dir))
    spec = build_spec({}, {"model_args": f"pretrained={tiny_model_dir}", "tasks": TASK,
                           "interventions": list(rows.values()), "limit": 2})
    built = {shape: host.build_interventions(text) for shape, text in rows.items()}
    assert all(len(b) == 1 for b in built.values())
    built = {shape: b[0] for shape, b in built.items()}
    assert {shape: r.kind for shape, r in built.items()} == {**{s: s for s in rows}, "adapter+prompts": "weights+prompts"}
    assert all(prompt_parts(r) == [p for p in r.parts if p.kind == "prompts"] for r in built.values())

    summary = dry_run(spec, host, tmp_path / "P", ArtifactCache(tmp_path / "cache"))
    assert summary["model_loaded"] is False  # no prompt part calls the model; weights are never needed
    MatrixRunner(spec, host, tmp_path / "out", handle=tiny_handle, progress=False, log_samples=True,
                 cache=ArtifactCache(tmp_path / "cache")).run()
    for kind, text in rows.items():
        iv_id = intervention_id(built[kind].label())
        dry = {d["doc_id"]: (d["prompt"], d["gen_kwargs"]) for d in _read(tmp_path / "P" / iv_id / f"{TASK}.jsonl")}
        ran = {s["doc_id"]: _sent(s) for s in _read(tmp_path / "out" / "cells" / iv_id / "samples" / TASK / f"{TASK}.jsonl")}
        assert len(dry) == 2 and dry == ran, kind
        prompts, budgets = [p for p, _ in dry.values()], {g["max_gen_toks"] for _, g in dry.values()}
        if "cot" in text:
            assert all(COT_INSTRUCTION in p for p in prompts) and budgets == {24}, kind
        if "sbs" in text:
            assert all(SBS_TEXT in p for p in prompts), kind
        if text.endswith("+sbs"):
            assert budgets == {256}, kind  # sbs keeps the task's own budget
        if "sbs:max_gen_toks=20" in text:
            assert budgets == {20}, kind
