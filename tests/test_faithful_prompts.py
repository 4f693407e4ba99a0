"""Faithful comparison methods and the *_paper vanilla prompts, item by item against the
reimplementation of the original (tests/faithful_reference.py) on the seed-12 files.

Every turn of every item's prompt and its answer budget must be equal; the model-calling stages
answer from the recorded stub model (``faithful_reference.stub``), which both sides call.
"""
from __future__ import annotations

from collections import Counter

import pytest

from .faithful_compare import DATASETS, METHODS, compare, harness_prompts, reference_prompts
from .faithful_reference import stub


@pytest.mark.parametrize("dataset", DATASETS)
@pytest.mark.parametrize("method", list(METHODS))
def test_faithful_prompt_equals_original(method, dataset, shared_data):
    equal, n, first_bad = compare(method, dataset, 12, shared_data)
    assert n > 100 and equal == n, f"{method} on {dataset}: {n - equal} of {n} differ, e.g. {first_bad}"


@pytest.mark.parametrize("dataset", DATASETS)
def test_preparatory_calls_and_budgets_equal(dataset, shared_data):
    """DWM, PercepToM and TimeToM ask the model the same messages with the same budgets (the
    harness asks each distinct message once; SimToM asks only the characters its questions name)."""
    for method in ("dwm", "percepttom", "timetom", "simtom"):
        _, lm = harness_prompts(method, dataset, 12)
        _, ref = reference_prompts(method, dataset, 12, shared_data)
        ours = {(text, kw["max_gen_toks"]) for text, kw in lm.seen}
        theirs = set(ref.calls)
        assert ours <= theirs and (method == "simtom" or ours == theirs), method


def test_stub_reaches_every_path(shared_data):
    """The recorded answers exercise the fallbacks: unreadable and fenced perception lists,
    first-order, higher-order and character-less TimeToM questions, SimToM's fallback."""
    for dataset in DATASETS:
        _, ref = reference_prompts("percepttom", dataset, 12, shared_data)
        answers = Counter(("not a list" in a, "```json" in a) for a in (stub(c) for c, b in ref.calls if b == 5000))
        assert answers[(True, False)] and answers[(False, True)] and answers[(False, False)]
        turns = Counter(len(m) for m, _ in harness_prompts("simtom", dataset, 12)[0].values())
        assert turns[1] and turns[3]
    kinds = Counter("You are omniscent-view." in m[0]["content"] for m, _ in harness_prompts("timetom", "hitom", 12)[0].values())
    assert kinds[True] and kinds[False]
    higher = [m[0]["content"] for m, _ in harness_prompts("timetom", "tomi", 12)[0].values()
              if m[0]["content"].startswith("t") and "Choose on of" in m[0]["content"]]
    assert higher  # higher-order questions asked on the shared time stamps, with the reduced question


def test_paper_prompt_shapes(shared_data):
    """The original's ordering: ToMi asks last, Hi-ToM/FANToM put question and choices before
    the instruction, FANToM yes/no keeps its Choices line."""
    fantom = harness_prompts("vanilla", "fantom", 12)[0]
    yes_no = [m[0]["content"] for m, _ in fantom.values() if '["yes", "no"]' in m[0]["content"]]
    assert yes_no and all(p.index("Choices:\n") < p.index("Based on the events") for p in yes_no)
    tomi = harness_prompts("vanilla", "tomi", 12)[0]
    assert all(m[0]["content"].rsplit("Question:\n", 1)[1].count("Choose one of the following options: ['")
               for m, _ in tomi.values())
