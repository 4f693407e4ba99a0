"""Stories from task documents: the story-level reading every prompt method shares.

lm-eval hands a prompt method one document per question (fields: :mod:`tom_harness.api.doc_contract`).
Methods that reason about the story rather than the question (``enigma``, ``simtom``,
``percepttom``, ``timetom``, ``dwm``, third-party ones) need the same few things: the documents
grouped into stories, each story's events, its characters, the belief chain of each question, and
per-cell counts of the calls they made. These live in the core, beside the doc contract they read,
so that no plugin imports another plugin's internals and a third-party method gets them from a
documented path (docs/api.md, "Stories").

* :mod:`.story`: :class:`Story`, :func:`stories_from_docs`, :func:`split_events`, :func:`docs_from_file`
* :mod:`.characters`: :func:`find_characters` (speakers, a local NER model, or offline rules)
* :mod:`.chain`: :func:`belief_chain`
* :mod:`.ledger`: :func:`add_counts`, :func:`ratio` (call counts summed over a cell's subtasks)
"""
from __future__ import annotations

from tom_harness.data.stories.chain import belief_chain
from tom_harness.data.stories.characters import find_characters
from tom_harness.data.stories.ledger import add_counts, ratio
from tom_harness.data.stories.story import Story, docs_from_file, split_events, stories_from_docs, story_key

__all__ = [
    "Story", "add_counts", "belief_chain", "docs_from_file", "find_characters", "ratio",
    "split_events", "stories_from_docs", "story_key",
]
