"""Faithful prompts of the harness against the reimplementation (tests/faithful_reference.py),
item by item: used by tests/test_faithful_prompts.py and benchmarks/faithful_prompts.py."""
from __future__ import annotations

import importlib
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from .faithful_reference import Original, stub

from tom_harness.backends.caller import ModelCaller
from tom_harness.backends.stub import RecordedLM
from tom_harness.lmeval.tasks import info_from_yaml
from tom_harness.plugins.baselines import CoT, DWM, PerceptToM, SimToM, TimeToM
from tom_harness.task_yamls import TASK_DIR
from tom_harness.task_yamls.helpers import read_json

METHODS = {"vanilla": None, "cot": CoT, "simtom": SimToM, "dwm": DWM, "percepttom": PerceptToM, "timetom": TimeToM}
DATASETS = ("tomi", "hitom", "fantom")


def task_docs(dataset: str, seed: int) -> list[dict]:
    """The task's own documents, as lm-eval gets them from the loader."""
    utils = importlib.import_module(f"tom_harness.task_yamls.{dataset}.utils")
    return utils.rows_from(read_json(dataset, f"{dataset}_seed{seed}.json"), dataset, seed)


def harness_prompts(method: str, dataset: str, seed: int) -> tuple[dict, Any]:
    """{(story id, question index): (messages, answer budget)} from the harness, and its stub."""
    docs = task_docs(dataset, seed)
    if method == "vanilla":
        utils = importlib.import_module(f"tom_harness.task_yamls.{dataset}.utils")
        return {(d["story_id"], d["q_index"]): ([{"role": "user", "content": utils.doc_to_text_paper(d)}], 512)
                for d in docs}, None
    lm = RecordedLM(answer=stub)
    ctx = SimpleNamespace(caller=ModelCaller(lm, None, "stub"))
    info = info_from_yaml(TASK_DIR / dataset / f"{dataset}_paper_seed{seed}.yaml")
    edits = METHODS[method](faithful=True).edit_prompts(docs, info, ctx)
    return {(d["story_id"], d["q_index"]): (e.messages, e.gen_kwargs["max_gen_toks"]) for d, e in zip(docs, edits)}, lm


def reference_prompts(method: str, dataset: str, seed: int, root: Path) -> tuple[dict, Original]:
    ref = Original(root, dataset, seed)
    out = ref.vanilla("cot-text" if method == "cot" else "vanilla-text") if method in ("vanilla", "cot") \
        else getattr(ref, method)()
    return out, ref


def compare(method: str, dataset: str, seed: int, root: Path) -> tuple[int, int, list]:
    """(equal items, items, the first differing keys)."""
    ours, _ = harness_prompts(method, dataset, seed)
    theirs, _ = reference_prompts(method, dataset, seed, root)
    keys = sorted(set(ours) | set(theirs))
    bad = [k for k in keys if ours.get(k) != theirs.get(k)]
    return len(keys) - len(bad), len(keys), bad[:5]
