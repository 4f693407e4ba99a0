"""The ToM localizer's stimulus text equals ToMechanisms' ``ToMLocDataset`` (wording=paper).

Worked by hand from ``tomloc/6b_story.txt`` and ``tomloc/6b_question.txt``: the story's lines end
in " \\n" and are stripped and joined by one space; the question file's statement spans two lines
("discovers  \\nthat"), and the original deletes the newline without adding a space, so the two
spaces before it stay. The answer word is the sixth draw of ``default_rng(42).choice(["True",
"False"])`` (the belief items draw first).
"""
from __future__ import annotations

import numpy as np
import pytest

from tom_harness.api.errors import UsageError
from tom_harness.data.stimuli import load_stimuli, paper_question

INSTRUCTION = ("In this experiment, you will read a series of sentences and then answer True/False "
               "questions about them. Press button 1 to answer 'true' and button 2 to answer 'false'.")
ITEM_6B = (
    INSTRUCTION + "\n"
    "Story: A window wiper was commissioned by a CEO to wipe an entire building. He finished the "
    "right side, but his platform broke before he could do the left side. The next morning the CEO "
    "arrived with foreign investors.\n"
    "Question: The CEO comes to work and discovers  that all of the walls are cleaned.\n"
    "Options:\n- True\n- False\n"
    "Answer: False"
)


def test_paper_wording_pins_item_6b(shared_data):
    tom = load_stimuli("tom")
    assert tom.positive[5] == ITEM_6B
    rng = np.random.default_rng(42)
    answers = [str(rng.choice(["True", "False"])) for _ in range(20)]
    assert [s.rsplit("Answer: ", 1)[1] for s in tom.positive + tom.negative] == answers


def test_paper_question_keeps_original_whitespace():
    # 2p: "wooded. " keeps its trailing space (only the part before the blank line is used)
    assert paper_question("In the painting the south bank of \nthe river is wooded. \n\nTrue\t\t\tFalse") == (
        "In the painting the south bank of the river is wooded. \nOptions:\n- True\n- False")


def test_harness_wording_is_selectable_and_differs(shared_data):
    paper, ours = load_stimuli("tom"), load_stimuli("tom", wording="harness")
    assert ours.positive[5].startswith("In this experiment you will read short stories.")
    assert "discovers that all" in ours.positive[5]
    assert paper.fingerprint != ours.fingerprint  # so t-maps of the two are cached apart
    with pytest.raises(UsageError, match="wording"):
        load_stimuli("tom", wording="papr")


def test_extended_paper_wording_has_no_options(shared_data):
    ext = load_stimuli("tom_ext")
    assert len(ext.positive) == len(ext.negative) == 95
    assert ext.positive[0].startswith(INSTRUCTION + "\nStory: A window wiper")
    assert "\nOptions:" not in ext.positive[0] and ext.positive[0].endswith(("Answer: True", "Answer: False"))
