"""Decompose-ToM world models (DWM): the story in parts, each followed by the model's account of
what every agent knows at that point.

Default: one multi-turn chat per story, equal chunks. ``faithful=true``: what the original's
``methods/tomdwm.py`` sends: three single-turn calls per story (``dwm.yaml``: ``construct_dwm``
on the text so far plus the next chunk, then ``instruct_dwm``), chunks of ``n // 3`` events with
the remainder spread over the first ones (10 events: 4/3/3), and the vanilla prompt asked on the
last call's text (the original's ``final_qa`` template is never used).
"""
from __future__ import annotations

from tom_harness import Param, PromptEdit
from tom_harness.task_yamls.helpers import fill, method_template, user, vanilla_prompt

from .base import FAITHFUL, PromptBaseline
from .original import PREP_TOKS, indexed_sentences, whole_prompt

PARTS = 3  # the original's num_chunks


def spread_chunks(items: list[str], k: int) -> list[list[str]]:
    """``k`` consecutive chunks, sizes ``n // k`` plus one for the first ``n % k`` (some may be empty)."""
    size, extra = divmod(len(items), k)
    out, start = [], 0
    for i in range(k):
        end = start + size + (1 if i < extra else 0)
        out.append(items[start:end])
        start = end
    return out


class DWM(PromptBaseline):
    name = "dwm"
    description = ("Decompose-ToM world models (DWM): the story in three parts, each followed by "
                   "the model's succinct description of what every agent knows.")
    params = (Param("parts", "int", 3, "number of story parts (faithful: always 3)", minimum=1), FAITHFUL)

    def edit_prompts(self, docs, task, ctx):
        stories, owner, _ = self._start(docs, task, ctx)
        if self.faithful:
            texts = self._faithful_texts([indexed_sentences(s.narrative, s.dialogue) for s in stories], ctx)
            self._finish(ctx, len(stories), len(docs))
            return [whole_prompt(user(vanilla_prompt(d, narrative=texts[si])), PREP_TOKS) for d, si in zip(docs, owner)]
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

    def _faithful_texts(self, events: list[list[str]], ctx) -> list[str]:
        """Three rounds over all stories; each round's text is the previous round's text, the
        model's answer and the next chunk; the last round's text is the DWM narrative."""
        construct, instruct = method_template("dwm.yaml", "construct_dwm"), method_template("dwm.yaml", "instruct_dwm")
        chunks = [spread_chunks(ev, PARTS) for ev in events]
        history = ["" for _ in events]
        for part in range(PARTS):
            shown = ["\n".join(c[part]).strip() for c in chunks]
            shown = [f"{h.strip()}\n\n{t}" if part else t for h, t in zip(history, shown)]
            outs = self._ask(ctx, [user(fill(construct, [("dialogue chunk", t)]) + "\n" + instruct) for t in shown])
            history = [f"{t}\n{o.strip()}\n\n" for t, o in zip(shown, outs)]
        return history
