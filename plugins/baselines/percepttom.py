"""PercepToM: who perceives each sentence, then the question on what its character perceived."""
from __future__ import annotations

import json
import re

from tom_harness import Param, PromptEdit

from .base import PromptBaseline, numbered


class PerceptToM(PromptBaseline):
    name = "percepttom"
    description = ("PercepToM: the model lists who perceives each sentence; each question is asked "
                   "on the sentences its first-named character perceived.")
    params = (Param("retries", "int", 5, "re-asks when the perception list is not valid JSON", minimum=0),)
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
