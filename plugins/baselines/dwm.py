"""Decompose-ToM world models (DWM): the story in parts, each followed by the model's account of
what every agent knows at that point.
"""
from __future__ import annotations

from tom_harness import Param, PromptEdit

from .base import PromptBaseline


class DWM(PromptBaseline):
    name = "dwm"
    description = ("Decompose-ToM world models (DWM): the story in three parts, each followed by "
                   "the model's succinct description of what every agent knows.")
    params = (Param("parts", "int", 3, "number of story parts", minimum=1),)

    def edit_prompts(self, docs, task, ctx):
        stories, owner, _ = self._start(docs, task, ctx)
        k = int(self.values.get("parts", 3))
        chunks = []
        for s in stories:
            lines = [f"{i + 1}: {e}" for i, e in enumerate(s.events)]
            size = -(-len(lines) // k)
            chunks.append(["\n".join(lines[j:j + size]) for j in range(0, len(lines), size)] or [""])
        histories: list[list[dict]] = [[] for _ in stories]
        states: list[list[str]] = [[] for _ in stories]
        for part in range(k):
            active = [i for i, c in enumerate(chunks) if part < len(c)]
            for i in active:
                intro = "Here is the first part of a story" if part == 0 else "Here is the next part of the story"
                histories[i].append({"role": "user", "content": (
                    f"{intro}:\n{chunks[i][part]}\n\nDescribe succinctly what each agent knows about "
                    "the world at this point.")})
            outs = self._ask(ctx, [histories[i] for i in active])
            for i, out in zip(active, outs):
                histories[i].append({"role": "assistant", "content": out.strip()})
                states[i].append(out.strip())
        narratives = [
            "\n\n".join(f"{c}\n[What each agent knows: {st}]" for c, st in zip(chunks[i], states[i]))
            for i in range(len(stories))
        ]
        self._finish(ctx, len(stories), len(docs))
        return [PromptEdit(narrative=narratives[si]) for si in owner]
