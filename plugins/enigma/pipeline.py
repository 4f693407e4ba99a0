"""The EnigmaToM pipeline: one analysis per story, built stage by stage.

Stages (each a function ``(pipeline, stories, analyses) -> list[value]`` that can be replaced by
passing ``stages={name: fn}``): characters, rooms, event_rooms (room of each event), entities
(entities of interest, Eq. 2), states (entity states after each event, Eq. 3) and locations
(each character's location after each event, the scene graph). Question reduction is per
question and lives in :meth:`Pipeline.reduce`.

Each stage's output per story is stored in the artifact cache (``ctx.cache.peek`` / ``ctx.cache.put``) under a key of
the knowledge base's identity (model fingerprint included), the story and the inputs it depends
on, so a re-run or a second intervention row with the same knowledge base costs nothing.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from tom_harness import Story, content_key

from .kb import KnowledgeBase
from .rules import reduce_question

if TYPE_CHECKING:  # pragma: no cover
    from tom_harness import RunContext

VERSION = "1"
Stage = Callable[["Pipeline", list[Story], list[dict]], list[Any]]


def _characters(p: "Pipeline", stories, analyses):
    return p.kb.characters(stories)


def _rooms(p: "Pipeline", stories, analyses):
    return p.kb.rooms(stories)


def _event_rooms(p: "Pipeline", stories, analyses):
    return p.kb.event_rooms(stories, [a["rooms"] for a in analyses])


def _entities(p: "Pipeline", stories, analyses):
    return p.kb.entities(stories, [a["characters"] for a in analyses], p.attributes)


def _states(p: "Pipeline", stories, analyses):
    return p.kb.entity_states(stories, [a["entities"] for a in analyses], p.attributes)


def _locations(p: "Pipeline", stories, analyses):
    return p.kb.character_locations(stories, [a["characters"] for a in analyses], [a["rooms"] for a in analyses])


#: stage name -> (function, names of the earlier outputs it depends on)
DEFAULT_STAGES: dict[str, tuple[Stage, tuple[str, ...]]] = {
    "characters": (_characters, ()),
    "rooms": (_rooms, ()),
    "event_rooms": (_event_rooms, ("rooms",)),
    "entities": (_entities, ("characters",)),
    "states": (_states, ("entities",)),
    "locations": (_locations, ("characters", "rooms")),
}


class Pipeline:
    """Runs the stages over a batch of stories with per-story caching."""

    def __init__(
        self,
        kb: KnowledgeBase,
        ctx: "RunContext | None" = None,
        attributes: bool = True,
        need_states: bool = True,
        need_locations: bool = True,
        stages: dict[str, Stage] | None = None,
    ) -> None:
        self.kb, self.ctx, self.attributes = kb, ctx, attributes
        self.stages = {k: v for k, v in DEFAULT_STAGES.items()}
        for name, fn in (stages or {}).items():
            if name not in self.stages:
                raise ValueError(f"unknown enigma stage {name!r}; valid: {', '.join(self.stages)}")
            self.stages[name] = (fn, self.stages[name][1])
        self.wanted = ["characters", "rooms", "event_rooms"]
        if need_states:
            self.wanted += ["entities", "states"]
        if need_locations:
            self.wanted += ["locations"]
        self.cache_hits = 0

    def _key(self, stage: str, story: Story, analysis: dict) -> str:
        deps = {d: analysis[d] for d in self.stages[stage][1]}
        attrs = self.attributes if stage in ("entities", "states") else None
        fn = self.stages[stage][0]
        return content_key("enigma", VERSION, stage, fn.__module__, fn.__qualname__,
                           self.kb.identity(), story.key, story.questions if stage == "entities" else None,
                           attrs, deps)

    def run(self, stories: list[Story]) -> list[dict]:
        analyses: list[dict] = [{} for _ in stories]
        for stage in self.wanted:
            self._run_stage(stage, stories, analyses)
        return analyses

    def _run_stage(self, stage: str, stories: list[Story], analyses: list[dict]) -> None:
        fn = self.stages[stage][0]
        use_cache = self.ctx is not None and self.kb.cacheable
        keys = [self._key(stage, s, a) for s, a in zip(stories, analyses)] if use_cache else []
        todo = list(range(len(stories)))
        if use_cache:
            todo = []
            for i, key in enumerate(keys):
                got = self.ctx.cache.peek(f"enigma_{stage}", key)  # memory or disk; None: compute
                if got is not None and got.value is not None:
                    analyses[i][stage] = got.value
                    self.cache_hits += 1
                else:
                    todo.append(i)
        if not todo:
            return
        values = fn(self, [stories[i] for i in todo], [analyses[i] for i in todo])
        for i, value in zip(todo, values):
            analyses[i][stage] = value
            if use_cache:
                self.ctx.cache.put(f"enigma_{stage}", keys[i], value)

    def reduce(self, questions: list[str], chains: list[list[str]], given: list[str | None], source: str) -> list[str]:
        """Reduced questions. ``source``: data (the file's field), rules, model, none, or auto
        (data when present, else rules, else the model when it is a model knowledge base)."""
        out: list[str | None] = [None] * len(questions)
        for i, (q, chain, g) in enumerate(zip(questions, chains, given)):
            if source == "none":
                out[i] = q
            elif source in ("data", "auto") and g:
                out[i] = g
            elif not chain:
                out[i] = q
            elif source in ("rules", "auto"):
                r = reduce_question(q, chain)
                out[i] = r if (r != q or source == "rules") else None
            elif source == "data":
                out[i] = q
        todo = [i for i, o in enumerate(out) if o is None]
        if todo:
            model = self.kb.reduce([questions[i] for i in todo])
            for i, r in zip(todo, model):
                out[i] = r or questions[i]
        return [o or q for o, q in zip(out, questions)]
