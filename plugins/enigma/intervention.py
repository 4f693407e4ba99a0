"""The ``enigma`` prompt intervention: EnigmaToM knowledge injection and iterative masking."""
from __future__ import annotations

import logging
from typing import Any

from tom_harness import (
    ASKED, STORY_UNITS, Intervention, Param, PromptEdit, Story, TaskInfo, add_counts, belief_chain,
    data_roots, find_dir, mismatch, ratio, stories_from_docs,
)

from .injection import inject, state_sentence
from .kb import NKB_CHOICES, CacheKB, KnowledgeBase, make_kb
from .masking import group_events, kept_events, mask
from .pipeline import Pipeline
from .render import depicts, framed, render

#: the published EnigmaToM outputs, one folder per data-directory dataset
CACHE_DIR = "enigma_cache"
log = logging.getLogger("tom_harness.enigma")


class Enigma(Intervention):
    name = "enigma"
    kind = "prompts"
    description = ("EnigmaToM (Xu et al., 2025): entity-state knowledge injection and iterative "
                   "masking along the question's belief chain, then the reduced question.")
    requires = {"narrative_in_prompt": True, "question_kind": ASKED, "unit": STORY_UNITS}
    version = "2"  # 2: faithful contexts equal the original's (docs/enigma.md)
    params = (
        Param("mode", "str", "ki+im", "ki = knowledge injection, im = iterative masking, or both",
              choices=("ki+im", "ki", "im")),
        Param("nkb", "str", "prompted", "knowledge base: prompted (Enigma-P), trained (Enigma-T), "
              "cache (the paper's Llama-3.1-8B outputs), rules (exact tracker, templated stories)",
              choices=NKB_CHOICES),
        Param("render", "str", "text", "how events and states are laid out", choices=("text", "markdown")),
        Param("attributes", "bool", True, "entity-attribute queries ('location of X') instead of plain entities"),
        Param("faithful", "bool", False, "reproduce the original code's quirks (see docs/enigma.md)"),
        Param("reduce", "str", "auto", "reduced question source: data field, rules, model, none, or auto",
              choices=("auto", "data", "rules", "model", "none")),
        Param("ner_model", "str", "dslim/bert-large-NER", "token-classification model for characters "
              "(used when in the local HF cache; else the rule-based recogniser)"),
        Param("kb_model", "str", "", "nkb=trained: causal LM (HF id or local path)"),
        Param("kb_adapter", "str", "", "nkb=trained: optional LoRA adapter (HF id or local path)"),
        Param("kb_max_tokens", "int", 64, "tokens per knowledge-base answer", minimum=4),
        Param("plan_max_tokens", "int", 256, "tokens for the planning answers (rooms, event rooms, "
              "entities of interest)", minimum=4),
        Param("max_entities", "int", 5, "entities of interest per story", minimum=1),
    )

    def not_applicable_reason(self, task: TaskInfo) -> str | None:
        base = super().not_applicable_reason(task)
        if base is not None:
            return base
        nkb = self.values.get("nkb")
        extra = {"rules": {"templated": True}, "cache": {"generated": False, "dataset": True}}.get(str(nkb), {})
        miss = mismatch(extra, task.all_traits())
        if miss:
            return f"{self.label()} does not apply to {task.name}: {miss}"
        if nkb == "cache":  # the cache exists only for the datasets the paper ran
            rel = f"{CACHE_DIR}/{task.trait('dataset')}"
            if find_dir(rel) is None:
                where = ", ".join(str(r) for r in data_roots())
                return f"{self.label()} does not apply to {task.name}: no {rel} folder in the data directory ({where})"
        return None

    def apply(self, ctx) -> None:
        self.metadata = {}  # a new cell: counts start again

    def _kb(self, ctx) -> KnowledgeBase:
        return make_kb(self.values.get("nkb", "prompted"), ctx, self.values)

    def edit_prompts(self, docs: list[dict], task: TaskInfo, ctx) -> list[PromptEdit | None]:
        v = {p.name: self.values.get(p.name, p.default) for p in self.params}
        kb = self._kb(ctx)
        before = ctx.caller.stats.calls
        stories, owner = stories_from_docs(docs, task.trait("unit") == "utterance")
        parsed = [i for i, s in enumerate(stories) if s.events]  # no events: nothing to mask or inject
        covered = [i for i in parsed if not isinstance(kb, CacheKB) or kb.covers(stories[i])]
        use_ki, use_im = "ki" in v["mode"], "im" in v["mode"]
        # the original computes the chain (and asks the reduced question) in mode=ki as well
        chained = use_im or v["faithful"]
        pipe = Pipeline(kb, ctx, attributes=v["attributes"], need_states=use_ki, need_locations=use_im)
        analyses = dict(zip(covered, pipe.run([stories[i] for i in covered])))

        chains: list[list[str]] = []
        for doc, si in zip(docs, owner):
            chars = analyses[si]["characters"] if si in analyses else []
            chains.append(belief_chain(str(doc.get("question", "")), chars, v["faithful"]) if chained else [])
        questions = [str(d.get("question", "")) for d in docs]
        todo = [n for n, si in enumerate(owner) if si in analyses]
        reduced = dict(zip(todo, pipe.reduce([questions[n] for n in todo], [chains[n] for n in todo],
                                             [docs[n].get("reduced_question") for n in todo], v["reduce"])))

        edits: list[PromptEdit | None] = []
        kept_total = events_total = empty = 0
        for n, (doc, si) in enumerate(zip(docs, owner)):
            if si not in analyses:
                edits.append(None)
                continue
            edit = self._edit(stories[si], analyses[si], chains[n], reduced[n] if chained else questions[n], v)
            kept_total += len(edit.info["kept_events"])
            events_total += len(stories[si].events)
            empty += not edit.info["kept_events"]
            edits.append(edit)

        m = self.metadata
        unparsed = len(stories) - len(parsed)
        add_counts(m, stories=len(stories), covered_stories=len(covered), questions=len(docs),
                   uncovered_questions=sum(1 for si in owner if si not in analyses),
                   unparsed_stories=unparsed, empty_contexts=empty,
                   kb_calls=kb.logical_calls, new_model_calls=ctx.caller.stats.calls - before,
                   stage_cache_hits=pipe.cache_hits, kept_events=kept_total, shown_events=events_total)
        m.update(nkb=v["nkb"], task_calls_per_question=1,
                 kb_calls_per_story=ratio(m, "kb_calls", "covered_stories"),
                 kept_event_fraction=ratio(m, "kept_events", "shown_events"))
        self._warn(task, unparsed, len(stories), empty, len(docs))
        return edits

    def _warn(self, task: TaskInfo, unparsed: int, stories: int, empty: int, questions: int) -> None:
        """Stories the pipeline cannot split into events keep their prompt unedited, and a view
        with no events leaves the model only the header: neither may pass silently."""
        notes = []
        if unparsed:
            notes.append(f"{unparsed} of {stories} stories of {task.name} have no events the pipeline "
                         "can parse (no narrative text); their questions are asked unedited")
        if empty:
            notes.append(f"{empty} of {questions} questions of {task.name} have an empty masked "
                         "context (no event left for the belief chain)")
        for note in notes:
            log.warning("%s: %s", self.label(), note)
        m = self.metadata
        if m.get("unparsed_stories") or m.get("empty_contexts"):
            m["warnings"] = [w for w in (
                f"{m['unparsed_stories']} of {m['stories']} stories unparsed (asked unedited)" if m.get("unparsed_stories") else "",
                f"{m['empty_contexts']} of {m['questions']} questions with an empty masked context" if m.get("empty_contexts") else "",
            ) if w]

    def _edit(self, story: Story, a: dict, chain: list[str], question: str, v: dict[str, Any]) -> PromptEdit:
        faithful = v["faithful"]
        use_im = "im" in v["mode"]
        occupied = {str(x).lower() for vec in a.get("locations", {}).values() for x in vec} if use_im else None
        groups = group_events(story.events, a["event_rooms"], a["rooms"], story.dialogue, faithful, occupied)
        view = mask(groups, chain, a.get("locations", {}), story.dialogue, faithful) if use_im else groups
        kept = kept_events(view)
        injected = inject(a["states"], v["attributes"], faithful) if "ki" in v["mode"] else None
        body = render(kept, story.events, injected, v["render"], story.dialogue, faithful)
        if use_im or faithful:  # the original frames every masktom version (ada, babbage, curie)
            body = (framed(body, chain, faithful, v["render"])
                    + "\n\n" + depicts(chain, faithful))
        states = {i: [state_sentence(t) for t in injected[i]] for i in kept if injected and injected[i]}
        return PromptEdit(narrative=body, question=question,
                          info={"chain": chain, "kept_events": kept, "n_events": len(story.events),
                                "injected_states": states})
