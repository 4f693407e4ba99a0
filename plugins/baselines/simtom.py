"""SimToM (Wilf et al., 2023): perspective taking, then the question on that perspective."""
from __future__ import annotations

from tom_harness import PromptEdit

from .base import FAITHFUL, PromptBaseline, asks_reduced


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
        views = dict(zip(wanted, self._ask(ctx, [self.stage1(stories[si].events, c) for si, c in wanted])))
        faithful = bool(self.values.get("faithful", False))
        edits: list[PromptEdit | None] = []
        for doc, si, ch in zip(docs, owner, chains):
            if not ch:
                edits.append(None)  # no character in the question: vanilla
                continue
            view = views[(si, ch[0])].strip()
            if faithful:
                # the original showed the raw narrative as the model's stage-1 answer, then the
                # perspective, and used the reduced question on ToMi (free-form questions about
                # event stories)
                rq = doc.get("reduced_question") if asks_reduced(task) else None
                edits.append(PromptEdit(narrative=f"{doc['narrative']}\n\n{view}", question=rq or None))
            else:
                edits.append(PromptEdit(narrative=view or doc["narrative"]))
        self._finish(ctx, len(stories), len(docs), perspectives=len(wanted))
        return edits
