"""TimeToM as the original's ``methods/timetom.py`` sends it (``timetom:faithful=true``).

Every prompt is a ``timetom.yaml`` template (``Narrative`` bank for ToMi/Hi-ToM, ``Dialogue`` for
FANToM) filled in the original's slot order. Its conventions, kept here: the characters of a
story are those of its NER list whose name occurs (as a substring) in any of the story's
questions; a question's order is how many of them occur in it, ordered by first occurrence;
options are one ``random.shuffle`` per question from the seed (ToMi: ``['alt', 'answer']`` after
" Choose one of the following options: ", and " Choose on of ..." after the reduced question;
Hi-ToM: lettered lines with the raw option names; FANToM: lettered beliefs, the lists and yes/no
as Python lists); time stamps are read from the first or last token of each line; shared stamps
are compared as sorted strings. The optional belief solver (``--use_belief_solver``) is not
reproduced (the paper's TimeToM rows ran without it).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tom_harness.task_yamls.helpers import family, fill, lettered, method_template

_STAMP = re.compile(r"t\d")


def bank(dialogue: bool) -> dict[str, Any]:
    return method_template("timetom.yaml", "Dialogue" if dialogue else "Narrative")


def time_stamps(text: str) -> list[tuple[str, str]]:
    """(stamp, line) pairs: the last token of each line if any carries ``t<digit>``, else the
    first, with ":" and "," removed from the stamp."""
    lines = text.split("\n")
    last = [ln.rsplit(" ", 1)[-1] for ln in lines]
    first = [ln.split(" ", 1)[0] for ln in lines]
    picked = last if any(_STAMP.search(t) for t in last) else first if any(_STAMP.search(t) for t in first) else []
    return [(t.replace(":", "").replace(",", ""), lines[i]) for i, t in enumerate(picked) if _STAMP.search(t)]


def fantom_kind(doc: dict) -> str:
    """The original's FANToM question type ('mc' for beliefs)."""
    kind, qt = str(doc["type"]), str(doc["question_type"])
    if kind.endswith(("_binary", "_list")):
        what = "answerability" if "answerability" in qt else "infoaccess"
        return f"{what}_{'binary' if kind.endswith('_binary') else 'list'}"
    return "mc"


def question_prompts(doc: dict) -> tuple[str, str, str]:
    """(question, reduced question, FANToM question type) with the original's options."""
    fam, perm = family(doc), list(doc.get("shuffle_perm") or [0, 1])
    kind = ""
    if fam == "tomi":
        options: list[Any] = [[str(doc["alternative"]), str(doc["answer"])][i] for i in perm]
        probing = False
    elif fam == "hitom":
        options, probing = list(doc["options_raw"]), True
    else:
        kind = fantom_kind(doc)
        if kind.endswith("binary"):
            options = [["yes", "no"][i] for i in perm]
        elif kind.endswith("list"):
            options = sum([[list(doc["wrong_list"]), list(doc["gold_list"])][i] for i in perm], [])
        else:
            options = [[str(doc["wrong_answer"]), str(doc["correct_answer"])][i] for i in perm]
        probing = kind == "mc"
    q, rq = str(doc["question"]), str(doc["reduced_question"] or "")
    if probing:
        return f"{q}\n{lettered(options)}", f"{rq}\n{lettered(options)}", kind
    return (f"{q} Choose one of the following options: {options}",
            f"{rq} Choose on of the following options: {options}", kind)


QA_KEYS = {"answerability_binary": "Time-Aware_Answerability_Binary_Question_Answer",
           "infoaccess_binary": "Time-Aware_Infoaccess_Binary_Question_Answer",
           "answerability_list": "Time-Aware_Answerability_List_Question_Answer",
           "infoaccess_list": "Time-Aware_Infoaccess_List_Question_Answer"}


def split_fact(question: str, last_line: bool) -> tuple[str, str]:
    """FANToM's "Information: …" / "Question: …" first line, cut off as the fact."""
    for label in ("Information:", "Question:"):
        if label in question:
            head, _, rest = (question.strip().rpartition("\n") if last_line and label == "Information:"
                             else question.partition("\n"))
            return head.replace(label, "").strip(), rest
    return "", question


@dataclass
class StoryState:
    """One story's timeline and belief state chains (character -> text, in NER order)."""

    timeline: str
    chains: dict[str, str]

    def beliefs(self) -> str:
        return "".join(f"{c}:\n{t}\n\n" for c, t in self.chains.items())


def first_order_prompt(b: dict, st: StoryState, text: str, character: str, question: str, kind: str) -> str:
    """Order 1 (``text``: the compressed chain, or on FANToM the chain) and order 0
    (``text``: the timeline, ``character`` 'omniscent-view', no question type)."""
    fact, question = split_fact(question, last_line=False)
    own = st.chains[character] if character != "omniscent-view" else ""
    return fill(b[QA_KEYS.get(kind, "Time-Aware_Belief_QA")], [
        ("compressed perspective", text), ("perspective", text), ("character", character),
        ("question", question), ("all character beliefs", st.beliefs().strip()), ("fact info", fact),
        ("character belief", own)])


def higher_order_prompt(b: dict, st: StoryState, chain: list[str], reduced: str, kind: str) -> str:
    """The timeline lines whose stamps every chain member's belief chain holds."""
    shared = set.intersection(*(set(t for t, _ in time_stamps(st.chains[c])) for c in chain))
    common = "\n".join(line for t, line in time_stamps(st.timeline) if t in shared)
    fact, reduced = split_fact(reduced, last_line=True)
    return fill(b[QA_KEYS.get(kind, "Time-Aware_Belief_QA_no_Compression")], [
        ("compressed perspective", common), ("perspective", common), ("character", chain[-1]),
        ("question", reduced), ("all character beliefs", st.beliefs()), ("fact info", fact)])


def named_in(question: str, characters: list[str]) -> list[str]:
    """The characters occurring (as substrings) in ``question``, by first occurrence."""
    return sorted((c for c in characters if c in question), key=question.index)
