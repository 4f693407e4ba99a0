"""A story as prompt methods see it: a list of events (one per sentence or dialogue line).

lm-eval gives one document per question; story-level methods work per story (EnigmaToM queries
its knowledge base once per story, SimToM takes a perspective once per story and character), so
documents are grouped here, by the doc contract's ``dataset``, ``story_id`` and ``narrative``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

_SENT_SPLIT = re.compile(r"(?<=[.!?])\s+")


@dataclass
class Story:
    """One narrative and the questions asked about it."""

    id: str
    dataset: str
    narrative: str
    events: list[str]
    dialogue: bool
    questions: list[str] = field(default_factory=list)
    seed: int = -1

    @property
    def key(self) -> str:
        """Identity used to group documents: same dataset, id and text."""
        return story_key(self.dataset, self.id, self.narrative)


def story_key(dataset: str, story_id: str, narrative: str) -> str:
    return f"{dataset}\x00{story_id}\x00{narrative}"


def split_events(narrative: str, dialogue: bool) -> list[str]:
    """Events of a narrative: dialogue lines, or sentences (each ending in its own punctuation).

    The original code split stories on ". " and put the full stop back; splitting after any
    sentence-final mark and a space gives the same events on ToMi/HiToM.
    """
    if dialogue:
        return [ln.strip() for ln in narrative.split("\n") if ln.strip()]
    text = " ".join(narrative.split())
    return [s.strip() for s in _SENT_SPLIT.split(text) if s.strip()]


def doc_dataset(doc: dict) -> str:
    return str(doc.get("dataset") or "")


def stories_from_docs(docs: list[dict], dialogue: bool = False) -> tuple[list[Story], list[int]]:
    """Group per-question documents into stories; returns the stories and each doc's story index.

    ``dialogue``: the task's narratives are ``Speaker: utterance`` lines (trait ``unit:
    utterance``), so events are lines rather than sentences."""
    index: dict[str, int] = {}
    stories: list[Story] = []
    owner: list[int] = []
    for n, doc in enumerate(docs):
        dataset = doc_dataset(doc)
        sid = str(doc.get("story_id", n))
        narrative = str(doc.get("narrative") or "")  # none: a story with no events (warned about)
        key = story_key(dataset, sid, narrative)
        if key not in index:
            index[key] = len(stories)
            stories.append(
                Story(sid, dataset, narrative, split_events(narrative, dialogue), dialogue,
                      seed=int(doc.get("seed", -1) if doc.get("seed") is not None else -1))
            )
        story = stories[index[key]]
        question = str(doc.get("question", ""))
        if question not in story.questions:
            story.questions.append(question)
        owner.append(index[key])
    return stories, owner


def docs_from_file(path: str, dataset: str, seed: int = -1, story_ids: list[str] | None = None) -> list[dict]:
    """Per-question documents (the harness's doc shape) from a grouped data file, for scripts and
    tests: story fields, question fields, ``story_id``, ``dataset`` and ``seed``."""
    import json

    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    out: list[dict] = []
    for sid, story in data.items():
        if story_ids is not None and sid not in story_ids:
            continue
        fields = {k: v for k, v in story.items() if k != "questions"}
        for q in story["questions"]:
            out.append({**fields, **q, "story_id": str(sid), "dataset": dataset, "seed": seed})
    return out
