"""The paper protocol: ``*_paper`` tasks generate as EnigmaToM did (no stop string, greedy, 512
tokens), and ``acc_paper`` equals EnigmaToM's ``src/eval_utils.py`` on the full text, including
whatever follows ``</answer>``. The reference scorers below are written the original's way."""
from __future__ import annotations

import pytest

from tom_harness.task_yamls import TASK_DIR

from .task_utils import load_utils

tomi, hitom, fantom = (load_utils(f) for f in ("tomi", "hitom", "fantom"))


def _normalize_token(word: str) -> str:
    for det in ["a", "an", "the"]:
        if word.startswith(det):
            word = word[len(det):].strip()
    return word.lower().replace("'s", "").replace(".", "").replace('"', "").replace("'", "").strip()


def _overlap(pred: str, location: str) -> float:
    def clean(x):
        return (x.lower().replace("_", " ").replace("'s", "").replace(".", "").replace('"', "")
                .replace("'", "").replace("[", "").replace("]", ""))
    pred, location = clean(pred), clean(location)
    score, seen = 0, []
    for token in pred.replace(".", "").split():
        if token in location.split() and token not in seen:
            score += 1
            seen.append(token)
    return score / len(location)


def original_tomi(predicted: str, answer: str, containers: list[str]) -> int:
    pred_token = predicted.split("Therefore")[-1].split("<answer>")[-1].split("</answer>")[0]
    pred_token, gt_token = str(pred_token).strip(), str(answer).strip()
    pred_token, gt_token = _normalize_token(pred_token.lower()), _normalize_token(gt_token.lower())
    others = [c for c in containers if c != gt_token]
    if others:
        return int(_overlap(pred_token, gt_token) > max(_overlap(pred_token, str(c).strip()) for c in others))
    return int(gt_token in pred_token)


def original_mc(predicted: str, answer, fantom_list: bool | None) -> int:
    """``evaluate_multiple_choice``; ``fantom_list`` None = Hi-ToM, False/True = FANToM."""
    answer = answer.lower() if isinstance(answer, str) else answer
    if fantom_list is None:
        if "<answer>" in predicted:
            predicted = predicted.split("</answer>")[0].split("<answer>")[-1].strip().lower()
        else:
            predicted = predicted.rsplit(":")[0].strip().split(".", 1)[0].lower()
        return int(predicted.split(".")[0].strip().lower() == answer)
    if "<answer>" in predicted:
        predicted = [e for e in predicted.split("</answer>") if e.strip()]
        if len(predicted) > 1:
            predicted = [e.split("<answer>")[-1].strip().lower() for e in predicted]
            predicted = [e for e in predicted if e.strip()]
        else:
            predicted = predicted[0].split("<answer>")[-1].strip().lower().split(".", 1)[0].lower()
    else:
        predicted = predicted.rsplit(":")[-1].strip().split(".", 1)[-1].lower()
    if fantom_list:
        answer = sorted(e.lower() for e in answer)
        if isinstance(predicted, str):
            predicted = predicted.split(",")
        predicted = [e.strip().replace('"', "").replace("'", "") for e in predicted]
        return int(answer == sorted(e.lower() for e in predicted if e.strip()))
    return int(answer == predicted)


TAILS = ["", ".", " ", "\nExplanation: the basket was moved.", "<|im_end|>", " Therefore, B.",
         "\n<answer>A</answer>", ": done", " Answer: no"]
TOMI_BODIES = ["<answer>cupboard</answer>", "<answer>the basket</answer>", "cupboard", "Therefore <answer>cupboard",
               "<answer>cupboard, not basket</answer>", "The answer: cupboard", ""]
HITOM_BODIES = ["<answer>B</answer>", "<answer>b. red basket</answer>", "B. red basket", "Answer: B",
                "<answer>(B)</answer>", "B", "<answer>A</answer>"]
FANTOM_BODIES = ["<answer>B</answer>", "<answer>yes</answer>", "<answer>no.</answer>", "<answer>Sara, Javier</answer>",
                 "<answer>Sara</answer><answer>Javier</answer>", "Answer: yes", "The answer is: B. because",
                 "<answer>'Javier', 'Sara'</answer>"]


@pytest.mark.parametrize("tail", TAILS)
def test_tomi_acc_paper_equals_original(tail):
    doc = {"answer": "cupboard", "containers": ["basket", "cupboard"], "question_type": "reality"}
    for body in TOMI_BODIES:
        text = body + tail
        assert tomi.paper_correct(text, doc) == original_tomi(text, doc["answer"], doc["containers"]), text


@pytest.mark.parametrize("tail", TAILS)
def test_hitom_acc_paper_equals_original(tail):
    doc = {"choices": ["green bottle", "red basket"], "gold_letter": "B", "question_order": 0}
    for body in HITOM_BODIES:
        text = body + tail
        assert hitom.process_results(doc, [text])["acc_paper"] == original_mc(text, "B", None), text


@pytest.mark.parametrize("tail", TAILS)
def test_fantom_acc_paper_equals_original(tail):
    docs = [({"type": "belief_accessible", "choices": ["x", "y"], "gold": "B", "gold_list": []}, "B", False),
            ({"type": "answerability_binary", "choices": [], "gold": "yes", "gold_list": []}, "yes", False),
            ({"type": "info_accessibility_list", "choices": [], "gold": "", "gold_list": ["Javier", "Sara"]},
             ["Javier", "Sara"], True)]
    for doc, gold, is_list in docs:
        for body in FANTOM_BODIES:
            text = body + tail
            assert fantom.process_results(doc, [text])["acc_paper"] == original_mc(text, gold, is_list), text


def test_text_after_the_tag_decides_under_the_paper_protocol():
    """The issue's example: the default protocol stops at ``</answer>`` (lm-eval removes it),
    so FANToM's paper scorer sees ``<answer>B`` and credits it; the paper protocol keeps the
    trailing "." and the original scorer (two blocks -> a list) does not."""
    doc = {"type": "belief_inaccessible", "choices": ["x", "y"], "gold": "B", "gold_list": []}
    assert fantom.process_results(doc, ["<answer>B"])["acc_paper"] == 1
    assert fantom.process_results(doc, ["<answer>B</answer>."])["acc_paper"] == 0
    assert fantom.process_results(doc, ["<answer>B</answer>."])["acc"] == 1


@pytest.fixture(scope="module")
def paper_tasks(shared_data):
    from lm_eval.tasks import TaskManager

    tm = TaskManager(include_path=str(TASK_DIR), include_defaults=False)
    return tm, tm.load(["tomi_paper", "hitom_paper_seed12", "fantom_paper_seed96", "tomi_seed12"])["tasks"]


def test_paper_variants_generate_like_enigmatom(paper_tasks):
    tm, tasks = paper_tasks
    paper = {n: t for n, t in tasks.items() if "_paper_" in n}
    assert len(paper) == 7  # five tomi seeds + one hitom + one fantom
    for name, task in paper.items():
        assert task.config.generation_kwargs == {"until": [], "do_sample": False, "max_gen_toks": 512}, name
        assert task.config.metadata["protocol"] == "paper"
        default = name.replace("_paper", "")
        assert default in tm.all_tasks
    assert tasks["tomi_seed12"].config.metadata["protocol"] == "default"
    assert tasks["tomi_seed12"].config.generation_kwargs["until"] == ["</answer>"]
    # same documents as the default task; the prompt is the original's vanilla-text template
    # (item-by-item equality with the original: tests/test_faithful_prompts.py)
    a, b = list(tasks["tomi_paper_seed12"].test_docs()), list(tasks["tomi_seed12"].test_docs())
    assert [d["question"] for d in a] == [d["question"] for d in b]
    texts = [tasks["tomi_paper_seed12"].doc_to_text(d) for d in a]
    assert all(t.startswith("Events:\n") and "Choose one of the following options: ['" in t for t in texts)
