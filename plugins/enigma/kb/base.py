"""The knowledge-base interface: what the pipeline asks about a batch of stories.

Every method takes a list of stories and returns one result per story, so model calls batch.
Characters default to :func:`tom_harness.data.stories.find_characters` (speakers, NER, or rules); a
knowledge base overrides what it knows better (``cache`` reads the paper's NER output).
"""
from __future__ import annotations

from typing import Any

from tom_harness import Story, find_characters

States = list[dict[str, list[list[str]]]]  # per event: {entity: [[x, y, state], ...]}


class KnowledgeBase:
    """Defaults: characters by speakers/NER; everything else must be provided by a subclass."""

    name = ""
    #: whether stage outputs go to the artifact cache (not worth it for files or rules)
    cacheable = True

    def __init__(self, ner_model: str = "", faithful: bool = False, max_entities: int = 5) -> None:
        self.ner_model = ner_model
        self.faithful = faithful
        self.max_entities = max_entities
        self.logical_calls = 0

    def identity(self) -> list[Any]:
        return [self.name, self.ner_model, self.faithful, self.max_entities]

    def characters(self, stories: list[Story]) -> list[list[str]]:
        return [find_characters(s, self.ner_model)[0] for s in stories]

    def rooms(self, stories: list[Story]) -> list[list[str]]:
        raise NotImplementedError

    def event_rooms(self, stories: list[Story], rooms: list[list[str]]) -> list[list[str | None]]:
        raise NotImplementedError

    def entities(self, stories: list[Story], chars: list[list[str]], attributes: bool) -> list[list[str]]:
        raise NotImplementedError

    def entity_states(self, stories: list[Story], entities: list[list[str]], attributes: bool) -> list[States]:
        raise NotImplementedError

    def character_locations(
        self, stories: list[Story], chars: list[list[str]], rooms: list[list[str]]
    ) -> list[dict[str, list[str]]]:
        raise NotImplementedError

    def reduce(self, questions: list[str]) -> list[str | None]:
        """Model-based question reduction; None where this knowledge base cannot reduce."""
        return [None] * len(questions)
