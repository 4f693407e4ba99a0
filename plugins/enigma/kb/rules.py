"""``nkb=rules``: the deterministic tracker of :mod:`..rules` as a knowledge base. It simulates
the templated stories (ToMi, HiToM, the generated ones) exactly, with zero model calls: an upper
bound for the method."""
from __future__ import annotations

from tom_harness import Story

from ..rules import question_object, track
from .base import KnowledgeBase, States


class RulesKB(KnowledgeBase):
    """Exact states of templated stories by simulation; zero model calls."""

    name = "rules"
    cacheable = False

    def _tracked(self, story: Story, chars: list[str] | None = None):
        return track(story, chars if chars is not None else self.characters([story])[0])

    def rooms(self, stories):
        return [self._tracked(s, []).rooms or ["location"] for s in stories]

    def event_rooms(self, stories, rooms):
        return [self._tracked(s, []).event_rooms for s in stories]

    def entities(self, stories, chars, attributes):
        out = []
        for s in stories:
            objs: list[str] = []
            for q in s.questions:
                o = question_object(q)
                if o and o not in objs:
                    objs.append(o)
            ents = [f"location of {o}" if attributes else o for o in objs]
            out.append(ents[: self.max_entities])
        return out

    def entity_states(self, stories, entities, attributes):
        out: list[States] = []
        for s, ents in zip(stories, entities):
            tracked = self._tracked(s, [])
            per_event: States = []
            for changed in tracked.changed:
                row: dict[str, list[list[str]]] = {}
                for e in ents:
                    obj = e[len("location of "):] if e.startswith("location of ") else e
                    if obj in changed:
                        state = f"in {changed[obj]}"
                        row[e] = [[obj, "Location", state]] if attributes else [["", obj, state]]
                    else:
                        row[e] = []
                per_event.append(row)
            out.append(per_event)
        return out

    def character_locations(self, stories, chars, rooms):
        return [self._tracked(s, cs).locations for s, cs in zip(stories, chars)]
