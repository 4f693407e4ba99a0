"""SimToM (Wilf et al., 2023): perspective taking, then the question on that perspective."""
from __future__ import annotations

from tom_harness import PromptEdit, Story
from tom_harness.task_yamls.helpers import (choices_block, eval_config, eval_template, fill,
                                                  free_form_question, user)

from .base import FAITHFUL, PromptBaseline
from .original import ANSWER_TOKS, whole_prompt


def stage1_text(story: Story) -> str:
    """The narrative of the original's stage-1 call: split on ". ", one piece per line."""
    return "\n".join(p for p in (story.narrative + " ").split(". ") if p.strip()).strip()


class SimToM(PromptBaseline):
    name = "simtom"
    description = ("SimToM (Wilf et al., 2023): the model first lists the events the question's "
                   "character knows about; the question is then asked on that perspective.")
    params = (FAITHFUL,)

    @staticmethod
    def stage1(events: list[str], character: str) -> str:
        lines = "\n".join(events)
        return (f"Here is a sequence of events:\n\n{lines}\n\nWhich of these events does {character} "
                "know about? Copy exactly those events, one per line, and nothing else.")

    def edit_prompts(self, docs, task, ctx):
        stories, owner, chains = self._start(docs, task, ctx)
        wanted = sorted({(si, ch[0]) for si, ch in zip(owner, chains) if ch})
        if self.faithful:
            first = eval_template(stories[0].dataset.split("_")[0], "simtom-text")[0] if stories else ""
            asks = [fill(first, [("narrative", stage1_text(stories[si])), ("character", c)]) for si, c in wanted]
            views = dict(zip(wanted, self._ask(ctx, [user(a) for a in asks])))
            edits = [self._faithful(d, stories[si], ch, views[(si, ch[0])] if ch else "")
                     for d, si, ch in zip(docs, owner, chains)]
        else:
            views = dict(zip(wanted, self._ask(ctx, [self.stage1(stories[si].events, c) for si, c in wanted])))
            edits = [PromptEdit(narrative=views[(si, ch[0])].strip() or d["narrative"]) if ch else None
                     for d, si, ch in zip(docs, owner, chains)]  # nobody named: vanilla
        self._finish(ctx, len(stories), len(docs), perspectives=len(wanted))
        return edits

    @staticmethod
    def _faithful(doc: dict, story: Story, chain: list[str], view: str) -> PromptEdit:
        """Three turns (stage 1 asked on the raw narrative, the raw narrative as the model's
        answer, stage 2 on the model's real stage-1 answer), or the vanilla prompt when the
        question names nobody."""
        ds = story.dataset.split("_")[0]
        free = eval_config(ds)["eval_method"] == "free-form"
        if not chain:  # the original's fallback: vanilla-text, no options on ToMi, FANToM lettered
            slots = [("narrative", doc["narrative"]), ("question", str(doc["question"]))]
            if not free:
                slots.append(("multiple choice", choices_block(doc, fantom_formats=False)))
            return whole_prompt(user(fill(eval_template(ds, "vanilla-text"), slots)), ANSWER_TOKS)
        first, second = eval_template(ds, "simtom-text")
        asked = fill(first, [("narrative", doc["narrative"]), ("character", chain[0])])
        slots = [("character narrative", view.strip())]
        if free:  # ToMi: the reduced question with its options
            slots.append(("question", free_form_question(doc, reduced=True)))
        else:
            slots += [("question", str(doc["question"])), ("multiple choice", choices_block(doc))]
        final = fill(second, slots + [("original narrative", doc["narrative"])])
        turns = [{"role": "user", "content": asked}, {"role": "assistant", "content": doc["narrative"]},
                 {"role": "user", "content": final}]
        return whole_prompt(turns, ANSWER_TOKS, character=chain[0])
