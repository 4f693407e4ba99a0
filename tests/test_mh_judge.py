"""The rule-based yes/no judge against responses labelled by hand (tests/fixtures/mh_judge_labels.json).

Agreement and Cohen's kappa are reported in task_yamls/moghaddam_honey/README.md and
docs/protocols.md; this test pins them (a rule change that loses agreement fails here)."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from sklearn.metrics import cohen_kappa_score

from tom_harness.task_yamls.yesno_judge import cut_run_on, judge_yes_no as judge, proposition

FIXTURE = Path(__file__).parent / "fixtures" / "mh_judge_labels.json"
KINDS = {"direct", "step_by_step", "cot", "option_list", "option_chosen", "hedge", "hedge_resolved", "run_on",
         "reversal", "no_conclusion", "restatement", "smollm2_blind"}


@pytest.fixture(scope="module")
def cases(shared_data) -> list[dict]:
    questions, gold = {}, {}
    for kind in ("belief", "photo"):
        data = json.loads((shared_data / "moghaddam_honey" / f"{kind}_scenarios.json").read_text(encoding="utf-8"))
        for s in data["scenarios"]:
            questions[kind, s["id"]] = s["question"]
            gold[kind, s["id"]] = s["correct_answer"].lower()
    out = []
    for c in json.loads(FIXTURE.read_text(encoding="utf-8"))["cases"]:
        key = (c["task"], c["scenario"])
        v = judge(c["response"], questions[key])
        out.append({**c, "judged": v.conclusion, "rule": v.rule, "gold": gold[key]})
    return out


def _code(x: str | None) -> str:
    return x or "inconclusive"


def test_fixture_covers_every_case_kind_on_both_tasks(cases):
    assert len(cases) >= 60
    assert {c["kind"] for c in cases} >= KINDS
    by_task = Counter(c["task"] for c in cases)
    assert by_task["belief"] >= 20 and by_task["photo"] >= 20
    assert {c["label"] for c in cases} == {"yes", "no", None}


def _agreement(cases: list[dict]) -> tuple[int, float, float, list]:
    labels = [_code(c["label"]) for c in cases]
    judged = [_code(c["judged"]) for c in cases]
    correct_h = [c["label"] == c["gold"] for c in cases]
    correct_j = [c["judged"] == c["gold"] for c in cases]
    wrong = [(c["id"], c["kind"], c["label"], c["judged"], c["rule"]) for c in cases if _code(c["label"]) != _code(c["judged"])]
    return (sum(a == b for a, b in zip(labels, judged)), cohen_kappa_score(labels, judged),
            cohen_kappa_score(correct_h, correct_j), wrong)


@pytest.mark.parametrize("subset", ["all", "not_blind", "smollm2_blind"])
def test_agreement_with_hand_labels(cases, subset):
    """Conclusion (yes / no / inconclusive) and correctness agreement, Cohen's kappa. The
    smollm2_blind cases were labelled before the judge saw them; the judge then got 24/28
    (kappa 0.67) and its option-list rule was widened (numbered and ``A).`` lists, disagreeing
    choices); the numbers after that change are the ones pinned here."""
    sel = [c for c in cases if subset == "all" or (c["kind"] == "smollm2_blind") == (subset == "smollm2_blind")]
    agree, kappa, kappa_correct, wrong = _agreement(sel)
    print(f"{subset}: conclusion agreement {agree}/{len(sel)}, kappa {kappa:.3f}; correctness kappa "
          f"{kappa_correct:.3f}; disagreements {wrong}")
    assert agree / len(sel) >= 0.95 and kappa >= 0.92 and kappa_correct >= 0.9, wrong


def test_each_rule_on_its_own():
    q = "When Pam is driving home after work, does she assume her tulips have bloomed?"
    assert proposition(q) == ("assume", {"tulip", "bloom"})
    assert cut_run_on("No.\n\nScenario: x Question: y Answer: Yes.") == ("No.\n\n", True)
    assert judge("(A) Yes (B) No", q).conclusion is None
    assert judge("(A) Yes (B) No\nAnswer: (B)", q).conclusion == "no"
    assert judge("Options: (1). Yes; (2). No;\nThe answer is: (1). Yes;", q).conclusion == "yes"
    assert judge("Options: (A). no; (B). yes;\nThe answer is: (A). yes", q).rule == "options chosen inconsistently"
    assert judge("A. no\nB. yes\nThe answer is A.\n\nThe answer is B.", q).conclusion is None
    assert judge("Options:\n- no\n- yes", q).rule == "option list only"
    assert judge("It depends on the weather.", q).rule == "hedge"
    assert judge("Yes. Scenario: Tom ... Answer: No.", q).conclusion == "yes"
    assert judge("Yes. Hmm, she was at work all day. So the answer is no.", q).conclusion == "no"
    assert judge("Yes. No. Yes. No.", q).conclusion is None
    assert judge("She assumes her tulips have bloomed. She does not assume her tulips have bloomed.", q).rule == "contradictory answers"
    assert judge("Pam was at work. Therefore, Pam does not assume her tulips have bloomed.", q).conclusion == "no"
    assert judge("Pam's tulips have not yet bloomed.", q).conclusion is None  # reality, not her belief
    assert judge("", q).conclusion is None
