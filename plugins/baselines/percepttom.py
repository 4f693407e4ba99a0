"""PercepToM: who perceives each sentence, then the question on what its character perceived.

``faithful=true`` sends what the original's ``methods/percepttom.py`` sends: the
``percepttom.yaml`` perception prompt (FANToM: its dialogue version) on the indexed sentences
with a 5000-token budget, the answer read as a Python literal (after a fenced block if there is
one), re-asked up to five times (4000 tokens) and then an empty list; the question's first
character by substring over its tokens; the kept sentences joined by spaces (no character: all
of them; no usable list: the indexed sentences) in the vanilla prompt, 1024 tokens.
"""
from __future__ import annotations

import ast
import json
import re
from typing import Any

from tom_harness import Param, PromptEdit, Story
from tom_harness.task_yamls.helpers import fill, method_template, user, vanilla_prompt

from .base import FAITHFUL, PromptBaseline, numbered
from .original import PERCEPTION_RETRY_TOKS, PERCEPTION_TOKS, PREP_TOKS, indexed_sentences, whole_prompt

TOLERANCE = 5  # the original's re-asks of an unreadable perception list


def literal_list(text: str) -> Any:
    """The original's reading of a perception answer: the fenced block if any, as a literal."""
    if "```json" in text:
        text = text.split("```json")[1].split("```")[0].strip()
    elif "```" in text:
        inner = text.split("```")[1].strip()
        text = inner.split("```")[0].strip() if inner else text.split("```")[0].strip()
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None


def first_named(tokens: list[str], characters: list[str]) -> str:
    """The character whose lower-cased name is a substring of the earliest token ('' if none)."""
    best, where = "", len(tokens)
    for i, tok in enumerate(tokens):
        for c in (n.lower() for n in characters):
            if c in tok and i < where:
                best, where = c, i
    return best


class PerceptToM(PromptBaseline):
    name = "percepttom"
    description = ("PercepToM: the model lists who perceives each sentence; each question is asked "
                   "on the sentences its first-named character perceived.")
    params = (Param("retries", "int", 5, "re-asks when the perception list is not valid JSON", minimum=0), FAITHFUL)
    max_prep_toks = 768

    @staticmethod
    def prompt(events: list[str], strict: bool) -> str:
        extra = " Output only the JSON array, nothing before or after it." if strict else ""
        return (f"Story:\n{numbered(events)}\n\nFor every sentence of the story, list the characters "
                "who perceive it (who are present to see or hear it). Answer as a JSON array with one "
                'object per sentence: [{"<sentence>": ["<name>", ...]}, ...].' + extra)

    @staticmethod
    def parse(text: str, events: list[str]) -> list[list[str]] | None:
        """Perceivers per event, or None when the answer is not a usable JSON array."""
        m = re.search(r"\[.*\]", text, re.S)
        try:
            items = json.loads(m.group(0)) if m else None
        except json.JSONDecodeError:
            return None
        if not isinstance(items, list) or not all(isinstance(x, dict) and len(x) == 1 for x in items):
            return None
        pairs = [next(iter(x.items())) for x in items]
        out: list[list[str]] = [[] for _ in events]
        for n, (sentence, names) in enumerate(pairs):
            idx = next((i for i, e in enumerate(events) if e.strip() == str(sentence).strip()), None)
            if idx is None and len(pairs) == len(events):
                idx = n
            if idx is not None and isinstance(names, list):
                out[idx] = [str(x).lower() for x in names]
        return out

    def edit_prompts(self, docs, task, ctx):
        stories, owner, chains = self._start(docs, task, ctx)
        if self.faithful:
            return self._faithful(docs, stories, owner, ctx)
        perceived: list[list[list[str]] | None] = [None] * len(stories)
        todo = list(range(len(stories)))
        for attempt in range(int(self.values.get("retries", 5)) + 1):
            outs = self._ask(ctx, [self.prompt(stories[i].events, attempt > 0) for i in todo])
            for i, out in zip(todo, outs):
                perceived[i] = self.parse(out, stories[i].events)
            todo = [i for i in todo if perceived[i] is None]
            if not todo:
                break
        edits: list[PromptEdit | None] = []
        for si, ch in zip(owner, chains):
            p = perceived[si]
            if not ch or p is None:
                edits.append(None)  # nobody named, or no usable perception list: full narrative
                continue
            keep = [e for e, names in zip(stories[si].events, p) if ch[0].lower() in names]
            sep = "\n" if stories[si].dialogue else " "
            edits.append(PromptEdit(narrative=sep.join(keep)))
        self._finish(ctx, len(stories), len(docs), unparsed_stories=len(todo))
        return edits

    def _faithful(self, docs: list[dict], stories: list[Story], owner: list[int], ctx) -> list[PromptEdit | None]:
        sentences = [indexed_sentences(s.narrative, s.dialogue) for s in stories]
        key = "fantom_get_perception" if stories and stories[0].dialogue else "get_perception"
        asks = [user(fill(method_template("percepttom.yaml", key), [("narrative", "\n".join(x))])) for x in sentences]
        lists: list[Any] = [literal_list(o) for o in self._ask(ctx, asks, PERCEPTION_TOKS)]
        for _ in range(TOLERANCE):  # the original re-asked at rising temperatures; ours is greedy
            todo = [i for i, x in enumerate(lists) if x is None]
            if not todo:
                break
            for i, out in zip(todo, self._ask(ctx, [asks[i] for i in todo], PERCEPTION_RETRY_TOKS)):
                lists[i] = literal_list(out)
        failed = sum(x is None for x in lists)
        lists = [[] if x is None else x for x in lists]
        edits: list[PromptEdit | None] = []
        for doc, si in zip(docs, owner):
            edits.append(whole_prompt(user(vanilla_prompt(doc, narrative=self._kept(doc, lists[si], sentences[si], si))),
                                      PREP_TOKS))
        self._finish(ctx, len(stories), len(docs), unparsed_stories=failed)
        return edits

    def _kept(self, doc: dict, perception: Any, sentences: list[str], si: int) -> str:
        """The sentences the question's first character perceives, joined by spaces."""
        if not perception:  # no usable list: the indexed sentences
            return " ".join(sentences)
        tokens = [t.lower().replace(",", "").replace(".", "").replace("'s", "") for t in str(doc["question"]).split()]
        pivot = first_named(tokens, self.characters[si]).strip()
        try:
            rows = [next(iter(x.items())) for x in perception]
            return " ".join(str(k) for k, who in rows if not pivot or pivot in who or pivot.capitalize() in who)
        except (AttributeError, TypeError, StopIteration):  # a literal but no list of {sentence: names}:
            return " ".join(sentences)  # the original crashed here; we ask on the indexed sentences
