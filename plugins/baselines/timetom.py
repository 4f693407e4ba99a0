"""TimeToM (Hou et al., 2024): a time-stamped timeline, each character's temporal belief state
chain, belief compression for first-order questions, shared time stamps for higher-order ones.
"""
from __future__ import annotations

import re

from tom_harness import PromptEdit, Story
from tom_harness.task_yamls.helpers import fill, user

from . import timetom_original as O
from .base import FAITHFUL, PromptBaseline
from .original import PREP_TOKS, whole_prompt


class TimeToM(PromptBaseline):
    name = "timetom"
    description = ("TimeToM (Hou et al., 2024): a time-stamped timeline, each character's temporal "
                   "belief state chain, belief compression for first-order questions, and shared "
                   "time stamps for higher-order questions.")
    params = (FAITHFUL,)
    max_prep_toks = 512

    @staticmethod
    def timeline_prompt(story: Story) -> str:
        kind = "dialogue" if story.dialogue else "story"
        return (f"Add a time stamp to every line of this {kind}, in order, as t1, t2, ..., writing "
                f"one line per event as 't<i>: <event>'.\n\n" + "\n".join(story.events))

    @staticmethod
    def chain_prompt(timeline: str, character: str, dialogue: bool) -> str:
        aware = "heard while taking part in the conversation" if dialogue else "saw or took part in"
        return (f"Timeline:\n{timeline}\n\nWrite the temporal belief state chain of {character}: output "
                f"only the events {character} is aware of, keeping their time stamps. Rules: (1) "
                f"{character} knows the events {character} {aware}; (2) {character} does not know "
                f"what happened while away; (3) copy each kept event as 't<i>: <event>'.")

    @staticmethod
    def compress_prompt(chain: str, character: str) -> str:
        return (f"Belief state chain of {character}:\n{chain}\n\nCompress it: drop the events that only "
                "say someone entered or left a place, keep the rest with their time stamps.")

    @staticmethod
    def stamps(text: str) -> list[int]:
        return sorted({int(m) for m in re.findall(r"\bt(\d+)\b", text)})

    def edit_prompts(self, docs, task, ctx):
        stories, owner, chains = self._start(docs, task, ctx)
        if self.faithful:
            return self._faithful(docs, stories, owner, ctx)
        outs = self._ask(ctx, [self.timeline_prompt(s) for s in stories])
        timelines = []
        for s, out in zip(stories, outs):  # an unusable timeline is rebuilt from the events
            ok = len(self.stamps(out)) >= len(s.events)
            timelines.append(out.strip() if ok else "\n".join(f"t{i + 1}: {e}" for i, e in enumerate(s.events)))
        pairs = sorted({(si, c) for si, ch in zip(owner, chains) for c in ch})
        belief = dict(zip(pairs, self._ask(ctx, [self.chain_prompt(timelines[si], c, stories[si].dialogue) for si, c in pairs])))
        first = sorted({(si, ch[0]) for si, ch in zip(owner, chains) if len(ch) == 1 and not stories[si].dialogue})
        compressed = dict(zip(first, self._ask(ctx, [self.compress_prompt(belief[p], p[1]) for p in first])))
        edits: list[PromptEdit | None] = []
        empty = 0
        for doc, si, ch in zip(docs, owner, chains):
            if not ch:
                edits.append(None)
                continue
            if len(ch) == 1:
                text = compressed.get((si, ch[0])) or belief[(si, ch[0])]
                edits.append(PromptEdit(narrative=text.strip()))
                continue
            shared = set(self.stamps(belief[(si, ch[0])]))
            for c in ch[1:]:
                shared &= set(self.stamps(belief[(si, c)]))
            events = stories[si].events
            text = "\n".join(f"t{t}: {events[t - 1]}" for t in sorted(shared) if 0 < t <= len(events))
            if not text:  # no shared time stamps could be read: ask on the full story
                empty += 1
                edits.append(None)
                continue
            edits.append(PromptEdit(narrative=text, question=doc.get("reduced_question") or None))
        self._finish(ctx, len(stories), len(docs), belief_chains=len(pairs), compressions=len(first),
                     no_shared_events=empty)
        return edits

    def _faithful(self, docs: list[dict], stories: list[Story], owner: list[int], ctx) -> list[PromptEdit | None]:
        """The original's four modules over all stories: timelines, belief state chains of the
        characters its questions name, compressions for first-order questions (not FANToM),
        then one answer prompt per question."""
        dialogue = bool(stories) and stories[0].dialogue
        b = O.bank(dialogue)
        lines = self._ask(ctx, [user(fill(b["Constructing_Temporal_Space"], [("story", s.narrative)])) for s in stories])
        relevant = [[c for c in self.characters[si] if c in " ".join(s.questions)] for si, s in enumerate(stories)]
        pairs = [(si, c) for si, cs in enumerate(relevant) for c in cs]
        outs = self._ask(ctx, [user(fill(b["Temporal_Belief_State_Chain_Construction"],
                                         [("character", c), ("story", lines[si])])) for si, c in pairs])
        states = [O.StoryState(lines[si], {}) for si in range(len(stories))]
        for (si, c), out in zip(pairs, outs):
            states[si].chains[c] = out
        named = [O.named_in(str(d["question"]), relevant[si]) for d, si in zip(docs, owner)]
        first = [n for n, (si, ch) in enumerate(zip(owner, named)) if len(ch) == 1 and not dialogue]
        squeezed = dict(zip(first, self._ask(ctx, [user(fill(b["Belief_Compression"], [
            ("perspective", states[owner[n]].chains[named[n][0]]), ("character", relevant[owner[n]][0])]))
            for n in first])))
        edits: list[PromptEdit | None] = []
        for n, (doc, si, ch) in enumerate(zip(docs, owner, named)):
            question, reduced, kind = O.question_prompts(doc)
            st = states[si]
            if len(ch) == 1:
                text = squeezed[n] if n in squeezed else st.chains[ch[-1]]
                prompt = O.first_order_prompt(b, st, text, ch[-1], question, kind)
            elif ch:
                prompt = O.higher_order_prompt(b, st, ch, reduced, kind)
            else:
                prompt = O.first_order_prompt(b, st, st.timeline, "omniscent-view", question, "")
            edits.append(whole_prompt(user(prompt), PREP_TOKS, order=len(ch)))
        self._finish(ctx, len(stories), len(docs), belief_chains=len(pairs), compressions=len(first))
        return edits
