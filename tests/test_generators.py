"""Story generators: deterministic, gold answers equal the independent simulator's."""
from __future__ import annotations

import pytest

from tom_harness.api.errors import UsageError
from tom_harness.data.generators import answer, hitom_stories, tomi_stories


def _disagreements(data: dict) -> list:
    return [(sid, q["question"], q["answer"], a)
            for sid, story in data.items() for q in story["questions"]
            if (a := answer(story["narrative"], q["question"]).replace(" ", "_")) != q["answer"]]


def test_tomi_gold_matches_simulator_over_thousands():
    data = tomi_stories(2000, seed=7)
    assert _disagreements(data) == []
    types = {q["question_type"] for s in data.values() for q in s["questions"]}
    assert {"reality", "memory", "first_order_0_tom", "first_order_0_no_tom",
            "second_order_0_tom", "second_order_1_no_tom"} <= types


@pytest.mark.parametrize("deception, max_order", [(True, 4), (False, 4), (True, 2)])
def test_hitom_gold_matches_simulator(deception, max_order):
    data = hitom_stories(1000, seed=11, max_order=max_order, deception=deception)
    assert _disagreements(data) == []
    orders = {q["question_order"] for s in data.values() for q in s["questions"]}
    assert orders == set(range(max_order + 1))
    told = any("told" in s["narrative"] or "claimed" in s["narrative"] for s in data.values())
    assert told == deception


def test_simulator_catches_a_wrong_gold():
    story = ("Ann entered the den. Bob entered the den. The pen is in the box. The box is in the den. "
             "Ann exited the den. Bob moved the pen to the bag. The bag is in the den.")
    assert answer(story, "Where will Ann look for the pen?") == "box"
    assert answer(story, "Where will Bob look for the pen?") == "bag"
    assert answer(story, "Where does Bob think that Ann searches for the pen?") == "box"
    assert answer(story, "Where is the pen really?") == "bag"
    assert answer(story, "Where was the pen at the beginning?") == "box"


def test_hitom_trust_rule_in_simulator():
    story = ("Ann, Bob and Cy entered the den. The pen is in the red box. Ann exited the den. "
             "Bob moved the pen to the blue bag. Bob exited the den. Cy moved the pen to the green tub. "
             "Cy exited the den. Ann, Bob and Cy entered the waiting room. "
             "Ann privately told Cy that the pen is in the red box. Cy privately told Bob that the pen is in the green tub.")
    assert answer(story, "Where does Cy really think the pen is?") == "green tub"  # Ann left earlier: ignored
    assert answer(story, "Where does Bob really think the pen is?") == "green tub"  # Cy left later: trusted
    assert answer(story, "Where does Cy think Bob thinks Ann thinks the pen is?") == "red box"
    assert answer(story, "Where does Cy think Bob thinks the pen is?") == "blue bag"


def test_deterministic_and_seed_sensitive():
    assert tomi_stories(50, 3) == tomi_stories(50, 3)
    assert tomi_stories(50, 3) != tomi_stories(50, 4)
    assert hitom_stories(20, 1) == hitom_stories(20, 1)
    assert list(tomi_stories(10, 3)) == list(tomi_stories(20, 3))[:10]  # prefix-stable by index
    with pytest.raises(UsageError):
        tomi_stories(0)
