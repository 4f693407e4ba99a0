"""sparse_tom details that must equal the released code (joel-wu/how-large-language-models-
encode-theory-of-mind, ``ToM_and_perplexity_evaluation.py``): item 1's trailing space and
scoring an answer that starts with a blank line."""
from __future__ import annotations

import json

import pytest
import yaml

from tom_harness.task_yamls import TASK_DIR

from .task_utils import load_utils


sparse = load_utils("sparse_tom")


def _rows(shared_data):
    return sparse.rows_from(json.loads((shared_data / "sparse_tom" / "tom_tasks.json").read_text(encoding="utf-8")))


def test_item1_closed_container_prompt_hand_worked(shared_data):
    """``build_s1_txt`` for NUMBER 1, typ "txt": txt + " XNAM does not connect ... XNAM reads the
    label on the CX. " (trailing space), placeholders filled (S1 audio, S2 video, CX hard drive,
    XNAM Sarah, XPRO she; ". s" -> ". S"), then f"Complete the following story: {txt} {q1}"."""
    row = next(r for r in _rows(shared_data)
               if r["cell"] == "unexpected_contents:1:false_belief:F" and r["probe"] == 0)
    assert sparse.doc_to_text(row) == (
        "Complete the following story: On the shelf at the company's headquarters, there is a hard "
        "drive that contains only audio files and no video files. Yet, its label clearly states "
        '"video files" and not "audio files". Sarah, the newly hired computer engineer, finds the '
        "hard drive on the shelf. She has never seen this hard drive before. Sarah does not "
        "connect to the hard drive and does not explore its contents. Sarah reads the label on "
        "the hard drive.  She opens the hard drive and looks inside. She can clearly see that it "
        "is full of")
    assert row["expected"] == "audio"


def test_item1_double_space_in_all_its_closed_prompts(shared_data):
    closed = [r for r in _rows(shared_data) if r["cell"].startswith("unexpected_contents:1:")
              and r["condition"] in ("false_belief", "correct_label", "informed")]
    assert len(closed) == 12
    assert all("the hard drive.  " in sparse.doc_to_text(r) for r in closed)


def _until() -> list[str]:
    cfg = yaml.safe_load((TASK_DIR / "sparse_tom" / "sparse_tom.yaml").read_text().replace("!function", ""))
    return cfg["generation_kwargs"]["until"]


@pytest.mark.parametrize("generation, expected, ok", [
    ("\n\nbeer", "beer", 1),          # leading blank line: stripped, as the original scorer
    ("\n\n beer.\n\nMore", "beer", 1),
    (" wine", "beer", 0),
    ("\n\n", "beer", 0),
])
def test_leading_blank_line_is_generated_and_scored(generation, expected, ok):
    """lm-eval cuts the generation at the task's stop strings (``postprocess_generated_text``);
    the task's ``until`` must not cut a leading blank line away."""
    from lm_eval.models.utils import postprocess_generated_text

    text = postprocess_generated_text(generation, stop=_until() + ["</s>"], think_end_token=None)
    doc = {"subtask": "unexpected_contents", "cell": "c", "expected": expected}
    assert sparse.process_results(doc, [text])["probe_acc"] == ok
