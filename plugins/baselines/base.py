"""What every prompting baseline shares: the traits it needs, the documents grouped into stories
with each question's belief chain (:mod:`tom_harness.data.stories`), and counted preparatory calls.

Each baseline's own preparatory model calls (perspective taking, perception lists, world-state
descriptions, timelines) go through ``ctx.caller`` (batched, cached on disk, counted); the answer
itself is the task's own call on the edited prompt. Every cell records ``calls_per_story``
(preparatory calls) and ``calls_per_question`` (preparatory calls spread over the questions, plus
the task's one answer call) in its metadata.
"""
from __future__ import annotations

from typing import Any

from tom_harness import (
    ASKED, STORY_UNITS, Intervention, Param, Story, TaskInfo, add_counts, belief_chain, find_characters,
    ratio, stories_from_docs,
)

from .original import PREP_TOKS, not_faithful_reason, paper_characters

#: story-level prompt methods: a question asked about a narrative of discrete events
STORY_TASK = {"narrative_in_prompt": True, "question_kind": ASKED, "unit": STORY_UNITS}
FAITHFUL = Param("faithful", "bool", False, "send what the original EnigmaToM code sends: its templates, "
                 "turns, option formats, budgets and fallbacks (ToMi, Hi-ToM, FANToM)")


def is_dialogue(task: TaskInfo) -> bool:
    return task.trait("unit") == "utterance"


def numbered(events: list[str]) -> str:
    return "\n".join(f"{i + 1}: {e}" for i, e in enumerate(events))


class PromptBaseline(Intervention):
    """Shared bookkeeping: story grouping, belief chains, counted model calls."""

    kind = "prompts"
    requires = STORY_TASK
    max_prep_toks = 256
    #: faithful preparatory calls: the original's default budget
    faithful_prep_toks = PREP_TOKS

    @property
    def faithful(self) -> bool:
        return bool(self.values.get("faithful", False))

    def not_applicable_reason(self, task: TaskInfo) -> str | None:
        why = super().not_applicable_reason(task)
        if why is None and self.faithful and (bad := not_faithful_reason(task)):
            return f"{self.label()} does not apply to {task.name}: {bad}"
        return why

    def apply(self, ctx) -> None:
        self.metadata = {}  # a new cell: counts start again

    def _start(self, docs: list[dict], task: TaskInfo, ctx) -> tuple[list[Story], list[int], list[list[str]]]:
        """Stories, each doc's story, each doc's belief chain. Faithful: the original's character
        lists (its NER file) and its question tokenisation."""
        self._calls = 0
        self._before = (ctx.caller.stats.calls, ctx.caller.stats.generated_tokens)
        stories, owner = stories_from_docs(docs, is_dialogue(task))
        self.characters = [paper_characters(s) if self.faithful else find_characters(s)[0] for s in stories]
        chains = [belief_chain(str(d.get("question", "")), self.characters[si], self.faithful)
                  for d, si in zip(docs, owner)]
        return stories, owner, chains

    def _ask(self, ctx, prompts: list[Any], max_gen_toks: int | None = None) -> list[str]:
        """Preparatory calls (counted); faithful ones default to the original's 1024 tokens."""
        if max_gen_toks is None and self.faithful:
            max_gen_toks = self.faithful_prep_toks
        self._calls += len(prompts)
        return ctx.caller.generate(prompts, max_gen_toks=max_gen_toks or self.max_prep_toks) if prompts else []

    def _finish(self, ctx, n_stories: int, n_questions: int, **extra: Any) -> None:
        m = self.metadata
        add_counts(m, stories=n_stories, questions=n_questions, prep_calls=self._calls,
                   new_model_calls=ctx.caller.stats.calls - self._before[0],
                   new_generated_tokens=ctx.caller.stats.generated_tokens - self._before[1], **extra)
        m["calls_per_story"] = ratio(m, "prep_calls", "stories")
        m["calls_per_question"] = ratio(m, "prep_calls", "questions") + 1
