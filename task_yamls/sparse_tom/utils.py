"""False-belief tasks of Wu et al. (2025): unexpected contents, unexpected transfer, irony.

Each story is scored under four conditions, each also with the two objects swapped; a
(story, condition, swap) *cell* has two completion probes and counts only if both are right
(irony cells have one probe). One lm-eval doc is one probe; the aggregations regroup probes
into cells. Docs are interleaved across the three tasks, so ``--limit`` samples all of them.
"""
from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from tom_harness.task_yamls.helpers import completion_hedged, completion_word, read_json, to_dataset_dict

CONTENTS = ("false_belief", "correct_label", "informed", "open_container")
TRANSFER = ("false_belief", "no_transfer", "informed", "present")

# Condition sentences; items 1 (a hard drive) and 17 (CDs) need their own wording. Item 1's
# closed sentence keeps the released code's trailing space (a double space before the probe).
_CLOSED = {1: "XNAM does not connect to the CX and does not explore its contents. XNAM reads the label on the CX. ",
           17: "XNAM does not open the box and does not listen to any of the CDs. XNAM reads the label."}
_OPENED = {1: "XNAM connects to the CX and explores its contents. XNAM reads the label on the CX.",
           17: "XNAM puts one in a CD player and listens to the songs. XNAM reads the label."}
_CLOSED_DEFAULT = "XNAM does not open the CX and does not look inside. XNAM reads the label."
_OPENED_DEFAULT = "XNAM opens the CX and looks inside. XNAM reads the label."
_INFORMED = ('A cousin calls XNAM and tells OBJ_PRO that the CX has S1 in it, and that XPRO should '
             'ignore the label that says "S2". XNAM believes POS_PRO cousin.')


def _capitalise_sentences(text: str) -> str:
    return re.sub(r"(^|[.!?]\s+)([a-z])", lambda m: m.group(1) + m.group(2).upper(), text)


def _fill(text: str, item: dict, swap: bool) -> str:
    o1, o2 = (item["o2"], item["o1"]) if swap else (item["o1"], item["o2"])
    for key, value in (("S1", o1), ("S2", o2), ("CX", item["c"]), ("XNAM", item["xnam"]),
                       ("OBJ_PRO", item["obj_pro"]), ("POS_PRO", item["pos_pro"]), ("XPRO", item["xpro"])):
        text = text.replace(key, value)
    return _capitalise_sentences(text)


def swap_words(text: str, a: str, b: str) -> str:
    """Exchange whole-word occurrences of ``a`` and ``b`` in one pass."""
    pattern = re.compile(rf"(?<!\w)({re.escape(a)}|{re.escape(b)})(?!\w)")
    return pattern.sub(lambda m: b if m.group(1) == a else a, text)


def first_word(expected: str) -> str:
    return expected.split()[0]


def contents_cell(item: dict, condition: str, swap: bool) -> tuple[str, list[tuple[str, str]]]:
    """Story text and its two (probe, expected first word) pairs."""
    n = item["NUMBER"]
    base = item["txt_correctlabel"] if condition == "correct_label" else item["txt"]
    action = (_OPENED if condition == "open_container" else _CLOSED).get(
        n, _OPENED_DEFAULT if condition == "open_container" else _CLOSED_DEFAULT)
    story = f"{base} {action}" + (f" {_INFORMED}" if condition == "informed" else "")
    story = _fill(story, item, swap)
    pro = item["xpro"].capitalize()
    if n == 17:
        q1 = f"{pro} puts one in a CD player and listens to the songs. {pro} can clearly hear that it is full of"
    else:
        q1 = f"{pro} opens the {item['c']} and looks inside. {pro} can clearly see that it is full of"
    verb = "received" if n in (12, 14) else "found"
    q2 = f"{item['xnam']} calls a friend to tell them that {item['xpro']} has just {verb} a {item['c']} full of"
    true, label = (item["o2"], item["o1"]) if swap else (item["o1"], item["o2"])
    second = label if condition == "false_belief" else true
    return story, [(q1, first_word(true)), (q2, first_word(second))]


def transfer_cell(item: dict, condition: str, swap: bool) -> tuple[str, list[tuple[str, str]]]:
    story = {"false_belief": item["txt"], "no_transfer": item["txt_notransfer"],
             "informed": f"{item['txt']} {item['txt_informed']}", "present": item["txt_present"]}[condition]
    new, old = item["o1"], item["o2"]
    if swap:
        story = swap_words(story, new, old)
        new, old = old, new
    answers = {"false_belief": (new, old), "no_transfer": (old, old),
               "informed": (new, new), "present": (new, new)}[condition]
    return story, [(item["q1"], first_word(answers[0])), (item["q2"], first_word(answers[1]))]


def irony_cell(item: dict, literal: bool) -> tuple[str, list[tuple[str, str]]]:
    text = item["txt_reverse"] if literal else item["txt"]
    story, _, question = text.partition(" Question: ")
    return story, [(f"Question: {question}", "Yes" if literal else "No")]


def build_cells(tasks: dict) -> dict[str, list[dict]]:
    """All cells per task, each ``{"cell", "condition", "swapped", "story", "probes"}``."""
    cells: dict[str, list[dict]] = defaultdict(list)
    for name, conditions, build in (("unexpected_contents", CONTENTS, contents_cell),
                                    ("unexpected_transfer", TRANSFER, transfer_cell)):
        for item in tasks[name]:
            for cond in conditions:
                for swap in (False, True):
                    story, probes = build(item, cond, swap)
                    cells[name].append({"cell": f"{name}:{item['NUMBER']}:{cond}:{'T' if swap else 'F'}",
                                        "condition": cond, "swapped": swap, "story": story, "probes": probes})
    for item in tasks["irony"]:
        for literal in (False, True):
            story, probes = irony_cell(item, literal)
            cells["irony"].append({"cell": f"irony:{item['NUMBER']}:{'literal' if literal else 'ironic'}",
                                   "condition": "literal" if literal else "ironic", "swapped": literal,
                                   "story": story, "probes": probes})
    return cells


def rows_from(tasks: dict) -> list[dict]:
    cells = build_cells(tasks)
    names = ("unexpected_contents", "unexpected_transfer", "irony")
    rows = []
    for i in range(max(len(cells[n]) for n in names)):
        for name in names:
            if i >= len(cells[name]):
                continue
            cell = cells[name][i]
            for p, (probe, expected) in enumerate(cell["probes"]):
                rows.append({
                    "story_id": cell["cell"], "cell": cell["cell"], "subtask": name,
                    "condition": cell["condition"], "swapped": cell["swapped"], "probe": p,
                    "dataset": "sparse_tom", "seed": -1, "narrative": cell["story"],
                    "question": probe, "expected": expected,
                })
    return rows


def load_sparse_tom(tomh_file: str = "tom_tasks.json", **_: Any):
    return to_dataset_dict(rows_from(read_json("sparse_tom", tomh_file)), f"sparse_tom/{tomh_file}")


def doc_to_text(doc: dict) -> str:
    if doc["subtask"] == "irony":
        return f"Read the following story: {doc['narrative']} {doc['question']} Correct Answer:"
    return f"Complete the following story: {doc['narrative']} {doc['question']}"


answer_word = completion_word  # the released code's rule: first word, ". , ' \" ;" removed


def process_results(doc: dict, results: list[str]) -> dict[str, Any]:
    """``paper``: the released code's first-word match; default: the same, but a hedged
    completion ("beer or wine") is wrong."""
    paper = completion_word(results[0]) == doc["expected"]
    ok = paper and not completion_hedged(results[0])
    item, item_paper = (doc["subtask"], doc["cell"], bool(ok)), (doc["subtask"], doc["cell"], bool(paper))
    return {"acc_contents": item, "acc_transfer": item, "acc_irony": item, "acc_fb_mean": item,
            "probe_acc": float(ok), "acc_fb_mean_paper": item_paper, "probe_acc_paper": float(paper)}


def _cell_rate(items: list, subtask: str) -> float:
    cells: dict[str, bool] = {}
    for name, cell, ok in items:
        if name == subtask:
            cells[cell] = cells.get(cell, True) and bool(ok)
    return sum(cells.values()) / len(cells) if cells else float("nan")


def agg_contents(items: list) -> float:
    return _cell_rate(items, "unexpected_contents")


def agg_transfer(items: list) -> float:
    return _cell_rate(items, "unexpected_transfer")


def agg_irony(items: list) -> float:
    return _cell_rate(items, "irony")


def agg_fb_mean(items: list) -> float:
    """The paper's headline: mean of the contents and transfer cell rates."""
    return (agg_contents(items) + agg_transfer(items)) / 2
