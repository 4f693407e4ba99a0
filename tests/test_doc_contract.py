"""The doc contract: what a bad document's error says, and that a loader hitting one fails loudly."""
from __future__ import annotations

import json

import pytest

from tom_harness.api.doc_contract import STORY_FIELDS, DocContractError, problems, validate
from tom_harness.api.errors import UsageError
from tom_harness.lmeval.tasks import TaskCatalog

GOOD = {"narrative": "Ann put the ball in the box.", "question": "Where is the ball?", "story_id": "s1",
        "q_index": 0, "dataset": "toy", "seed": -1, "reduced_question": None, "answer": "box",
        "mc_choices": ["box", "bag"], "mc_gold": 0}


def test_good_doc_passes():
    assert problems(GOOD) == []
    assert validate([GOOD], "toy/file.json") == [GOOD]


@pytest.mark.parametrize("change, message", [
    ({"question": None}, "field 'question' is NoneType None, expected str"),
    ({"seed": True}, "field 'seed' is bool True, expected int"),
    ({"story_id": 17}, "field 'story_id' is int 17, expected str"),
    ({"mc_gold": 2}, "mc_gold 2 is not an index of mc_choices (2 options)"),
    ({"mc_choices": ["box", 3]}, "field 'mc_choices' is list"),
    ({"narrative": "  "}, "field 'narrative' is empty"),
])
def test_bad_doc_is_named(change, message):
    bad = {**GOOD, **change}
    with pytest.raises(DocContractError) as err:
        validate([GOOD, bad, bad], "toy/file.json")
    text = str(err.value)
    assert text.startswith(f"toy/file.json: row 1 (story {bad['story_id']}, question 0): ") and message in text
    assert "1 more document(s)" in text and isinstance(err.value, UsageError)


def test_missing_fields_and_gold():
    bad = {k: v for k, v in GOOD.items() if k not in ("dataset", "answer", "mc_gold")}
    found = problems(bad)
    assert any("'dataset' is missing" in p for p in found)
    assert any(p.startswith("no gold field") for p in found)
    assert {f.name for f in STORY_FIELDS if f.required} == {"narrative", "question", "story_id", "dataset", "seed"}


def test_loader_with_bad_rows_fails_at_load(tmp_path, monkeypatch):
    """A task folder whose loader yields a doc without a question: the error names file and item."""
    (tmp_path / "data" / "mine").mkdir(parents=True)
    (tmp_path / "data" / "mine" / "items.json").write_text(json.dumps([{"story": "Ann left.", "id": "a7"}]))
    (tmp_path / "utils.py").write_text(
        "from pathlib import Path\n"
        "from tom_harness.task_yamls.helpers import read_json, to_dataset_dict\n\n"
        "def load(**_):\n"
        "    rows = [{'narrative': r['story'], 'story_id': r['id'], 'dataset': 'mine', 'seed': -1,\n"
        "             'answer': 'x'} for r in read_json('mine', 'items.json', Path(__file__).parent)]\n"
        "    return to_dataset_dict(rows, 'mine/items.json')\n")
    (tmp_path / "mine.yaml").write_text(
        "task: mine\ncustom_dataset: !function utils.load\ntest_split: test\noutput_type: generate_until\n"
        "doc_to_text: '{{narrative}}'\ndoc_to_target: answer\nmetadata: {version: 1.0}\n")
    monkeypatch.setenv("TOM_HARNESS_DATA", str(tmp_path / "elsewhere"))
    with pytest.raises(DocContractError, match=r"mine/items.json: row 0 \(story a7\): field 'question' is missing"):
        TaskCatalog.from_sources([], [str(tmp_path)]).info("mine")
