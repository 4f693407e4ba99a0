"""A rule-based judge for free-text answers to a yes/no question: what did the response conclude?

Written for studies that judged sampled free text by hand with the rule "correct if it reaches
the correct conclusion (or gives the correct reasoning); inconclusive counts as wrong"
(Moghaddam & Honey 2023). The rules, in the order they apply:

1. **Run-ons.** Only the text before the response starts a new item (``item_start``, e.g.
   ``Scenario:``, or a repeat of the instruction) is judged: small models often go on to invent
   the next scenario and answer that one too.
2. **Option lists.** A list that offers both answers (``(A) Yes (B) No``, ``A). no B). yes``,
   ``(1). Yes; (2). No;``, ``- no - yes``) chooses nothing; it is removed. A later choice of a
   label (``Answer: (B)``, ``The answer is: (1). Yes``) counts as that option; choices that
   disagree (``The answer is A. The answer is B.``, or ``(A). yes`` where A was no) are
   inconclusive; with no choice the list adds nothing (a bare list is inconclusive).
3. **Signals.** The text is read for answer signals, in order:

   * *marked* conclusions: ``the answer is: no``, ``Answer: yes``, ``So, yes``, ``Therefore ...``
     followed by a restatement, a yes/no that opens the response (the prompt ends in the answer
     slot), and hedges about the answer (``cannot be determined``, ``it depends``, ``not enough
     information``, ``may or may not``): a hedge is a marked *inconclusive* signal;
   * *plain* answers: a sentence that opens with ``Yes,``/``No.``, or a restatement of the
     question's proposition (its belief/perception verb and two thirds of its other content
     words, at least two), negated or not; a sentence that opens with If / Whether states
     a condition, not an answer.

4. **Decision.** The last marked signal is the conclusion: a reversal that ends in a marked
   conclusion (``Yes. Wait ... so the answer is no``) counts as its final conclusion, and a
   marked answer followed by a hedge is inconclusive. A marked answer that plain answers after
   it contradict (``Yes. No. Yes. No.``) is inconclusive: the response never settles. With no
   marked signal, plain answers that all agree are the conclusion; plain answers that
   contradict each other are inconclusive. No signal at all is inconclusive.

:func:`judge_yes_no` returns ``"yes"``, ``"no"`` or ``None`` (inconclusive) with the rule that decided.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

#: verbs whose object a restatement must keep (a statement about the world is not an answer
#: about a belief or a picture): the question's own verb must be one of them
ATTITUDE_VERBS = ("assum", "think", "thought", "believ", "know", "knew", "see", "saw", "seen", "find",
                  "found", "expect", "discover", "show", "say", "said", "portray", "appear", "depict")
_STOP = set("""a an the of to in on at by for with and or but is are was were be been being do does did
will would can could should has have had she he they it its her his their them this that these those
there when now today yet still all any some as from into after before while than then so""".split())
_NEG = re.compile(r"\b(not|never|no longer|neither|nor|cannot|nothing|none)\b|n't\b|n’t\b", re.I)
_YN = r"(yes|no)"
_MARKED = [
    re.compile(r"\b(?:answer|conclusion)\s*(?:is|would be|will be|:)\s*[:\-]?\s*[\"'*(]*\s*" + _YN + r"\b", re.I),
    re.compile(r"(?:^|[.!?\n]\s*)(?:so|therefore|thus|hence|in conclusion|in summary|to conclude|in short)\s*[,:]?\s*"
               + _YN + r"\b(?!\s+(?:one|longer|matter|doubt))", re.I),
]
_CONCLUDE = re.compile(r"^(?:so|therefore|thus|hence|this means|that means|in conclusion|in summary|to conclude)\b", re.I)
_OPENER = re.compile(r"(?:^|(?<=[.!?\n]))\s*[\"'*]*" + _YN + r"(?=\s*(?:[,.!;:\n]|$|\s+(?:she|he|they|it|the)\s))", re.I)
_HEDGES = re.compile(
    r"\b(?:cannot|can't|can’t|could not|couldn't|is not possible to|isn't possible to|impossible to|unable to|"
    r"no way to|hard to|difficult to)\s+(?:be\s+)?(?:determined?|tell|say|know|be sure|answer)"
    r"(?=\s*(?:whether|if|for sure|for certain|from|based on|what|this|that|it\b|the answer|[.,;!\n]|$))"
    r"|\bit depends\b|\bdepends on\b|\bnot enough (?:information|context|details)\b|\bmay or may not\b"
    r"|\b(?:it is|it's|that is) (?:not clear|unclear)\b|\bunclear (?:whether|if)\b|\bcould be either\b"
    r"|\b(?:both|either) yes (?:or|and) no\b|\bnot (?:possible|able) to (?:say|tell|determine|know)\b", re.I)
#: one offered option: ``(A) Yes``, ``A). no``, ``B. yes``, ``(1). Yes;``, ``- no`` (a bullet has no label)
_ENTRY = re.compile(r"(?:\(?\b([A-D]|[1-5])\b\)?[.):]*|(?m:^)[ \t]*[-*])[ \t]*(yes|no)\b[.;,]?", re.I)
#: a choice of a labelled option, with the option's text when repeated: ``The answer is: (1). Yes``
_PICK = re.compile(r"(?i:answer(?: is)?|choose|pick|option)\s*[:\-]?\s*\(?\b([A-D]|[1-5])\b\)?(?:[.):;]*[ \t]*((?i:yes|no))\b)?")


@dataclass(frozen=True)
class Verdict:
    conclusion: str | None  # "yes", "no" or None (inconclusive)
    rule: str  # which rule decided (for the items file and for debugging a label)


def _stem(word: str) -> str:
    w = word.lower().strip("'’")
    for suf in ("ing", "ed", "es", "s"):
        if len(w) > len(suf) + 2 and w.endswith(suf):
            return w[: -len(suf)]
    return w


def _words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z0-9][A-Za-z0-9'’\-]*", text)


def proposition(question: str) -> tuple[str | None, set[str]]:
    """The question's attitude verb stem (None if it has none) and its other content stems."""
    core = question.rsplit(",", 1)[-1] if re.match(r"^(when|by the time|at the end|today|in the|on the)\b", question, re.I) else question
    words = [_stem(w) for w in _words(core) if w.lower() not in _STOP]
    verb = next((w for w in words if any(w.startswith(v) for v in ATTITUDE_VERBS)), None)
    return verb, {w for w in words if w != verb}


def cut_run_on(text: str, item_start: str = "Scenario:") -> tuple[str, bool]:
    """The response up to a new item (``item_start`` or a repeated instruction); True if cut."""
    stops = [i for i in (text.find(item_start), text.lower().find("read the scenario")) if i >= 0]
    return (text[: min(stops)], True) if stops else (text, False)


def _options(text: str) -> tuple[str, dict[str, str], bool]:
    """Text without option lists (two or more offered options in a row, with both answers
    among them), the labels' meanings, whether a list was there."""
    runs: list[list[re.Match]] = []
    for m in _ENTRY.finditer(text):
        if runs and not text[runs[-1][-1].end():m.start()].strip():
            runs[-1].append(m)
        else:
            runs.append([m])
    meaning: dict[str, str] = {}
    listed = False
    for run in runs:
        if len(run) < 2 or len({m.group(2).lower() for m in run}) < 2:
            continue
        listed = True
        for m in run:
            if m.group(1):
                meaning.setdefault(m.group(1).upper(), m.group(2).lower())
        text = text[: run[0].start()] + " " * (run[-1].end() - run[0].start()) + text[run[-1].end():]
    return text, meaning, listed


def _picked(text: str, meaning: dict[str, str]) -> str | None | bool:
    """The option the response chose after offering a list: ``"yes"``/``"no"``, None when its
    choices disagree (``The answer is A. The answer is B.``, or ``(A). yes`` where A was no),
    False when it chose nothing."""
    values = set()
    for m in _PICK.finditer(text):
        label, said = m.group(1).upper(), (m.group(2) or "").lower()
        if label not in meaning:
            continue
        values.add(meaning[label] if not said or said == meaning[label] else None)
    if not values:
        return False
    return values.pop() if len(values) == 1 else None


def _sentences(text: str) -> list[tuple[int, str]]:
    out, pos = [], 0
    for m in re.finditer(r"[^.!?\n]+[.!?]*", text):
        out.append((m.start(), m.group(0).strip()))
        pos = m.end()
    return out


def signals(text: str, question: str) -> list[tuple[int, str | None, bool]]:
    """``(position, "yes"|"no"|None, marked)`` for every answer signal in ``text``, in order."""
    found: list[tuple[int, str | None, bool]] = []
    for rx in _MARKED:
        found += [(m.start(), m.group(1).lower(), True) for m in rx.finditer(text)]
    found += [(m.start(), None, True) for m in _HEDGES.finditer(text)]
    for m in _OPENER.finditer(text):
        start = m.start(1)
        marked = not text[:start].strip(" \n\"'*:")
        found.append((start, m.group(1).lower(), marked))
    verb, content = proposition(question)
    if verb:
        for start, sent in _sentences(text):
            if sent.endswith("?") or re.match(r"^(?:\d+\.\s*)?(?:question|if|whether)\b", sent, re.I):
                continue  # a question, or a condition rather than a claim
            stems = {_stem(w) for w in _words(sent)}
            if not any(s.startswith(verb[:4]) for s in stems):
                continue
            if content and len(content & stems) < max(min(2, len(content)), (2 * len(content) + 2) // 3):
                continue
            polarity = "no" if _NEG.search(sent) else "yes"
            found.append((start, polarity, bool(_CONCLUDE.match(sent))))
    return sorted(found, key=lambda s: s[0])


def judge_yes_no(response: str, question: str, item_start: str = "Scenario:") -> Verdict:
    """The response's conclusion about ``question`` (module docstring: the rules)."""
    text, cut = cut_run_on(response or "", item_start)
    text, letters, listed = _options(text)
    where = " (before the run-on)" if cut else ""
    if listed:
        pick = _picked(text, letters)
        if pick is not False:
            return Verdict(pick, ("option chosen" if pick else "options chosen inconsistently") + where)
    found = signals(text, question)
    marked = [s for s in found if s[2]]
    if marked:
        pos, value, _ = marked[-1]
        later = {s[1] for s in found if s[0] > pos and not s[2] and s[1] is not None}
        if value and later - {value}:
            return Verdict(None, "contradicted after its conclusion" + where)
        return Verdict(value, ("marked conclusion" if value else "hedge") + where)
    values = {s[1] for s in found if s[1] is not None}
    if len(values) == 1:
        return Verdict(values.pop(), "plain answer" + where)
    if len(values) > 1:
        return Verdict(None, "contradictory answers" + where)
    return Verdict(None, ("option list only" if listed else "no conclusion") + where)
