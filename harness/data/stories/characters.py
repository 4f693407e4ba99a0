"""Who the characters of a story are: speakers for dialogues, named entities for stories.

EnigmaToM runs ``dslim/bert-large-NER`` over the sentences. That model is used here when it (or
another token-classification model given by ``ner_model``) loads from the local Hugging Face
cache; otherwise a rule-based recogniser runs offline. The rule: a capitalised word is a name
unless it is a function word ("The", "A", "He", ...), wherever it stands in the sentence. On the
templated ToMi/HiToM stories this finds every character (the only capitalised words are names
and sentence-initial determiners). Names that are substrings of other names are dropped, as in
EnigmaToM's code.
"""
from __future__ import annotations

import logging
import re
from typing import Callable

from tom_harness.cache.artifacts import remember

from tom_harness.data.stories.story import Story

log = logging.getLogger("tom_harness.data.stories")

_WORD = re.compile(r"\b[A-Z][a-z]+(?:-[A-Z][a-z]+)?\b")
_FUNCTION_WORDS = {
    "the", "a", "an", "he", "she", "it", "they", "we", "i", "you", "his", "her", "their", "its",
    "this", "that", "these", "those", "there", "then", "there's", "what", "where", "who", "when",
    "why", "how", "which", "does", "do", "did", "is", "are", "was", "were", "will", "would",
    "yes", "no", "oh", "so", "but", "and", "or", "if", "after", "before", "while", "meanwhile",
    "later", "now", "today", "yesterday", "suddenly", "finally", "one", "some", "every", "all",
    "each", "both", "mr", "mrs", "ms", "dr", "in", "on", "at", "as", "to", "for", "with",
}


def speakers(story: Story) -> list[str]:
    """Dialogue speakers in order of first line."""
    out: list[str] = []
    for line in story.events:
        name, sep, _ = line.partition(":")
        name = name.strip()
        if sep and name and len(name.split()) <= 3 and name not in out:
            out.append(name)
    return out


def rule_names(story: Story) -> list[str]:
    """Offline named-entity fallback for narratives (see module docstring)."""
    found: list[str] = []
    for sent in story.events:
        for m in _WORD.finditer(sent):
            word = m.group(0)
            if word.lower() in _FUNCTION_WORDS:  # wherever it stands in the sentence
                continue
            if word not in found:
                found.append(word)
    return drop_substrings(found)


def drop_substrings(names: list[str]) -> list[str]:
    return [n for n in names if not any(n != o and n in o for o in names)]


def _load_ner(model: str) -> Callable | None:
    """The NER pipeline, loaded once per process (the cache's memory tier), or None."""
    return remember("story_ner", model, lambda: _build_ner(model), pin=True).value


def _build_ner(model: str) -> Callable | None:
    try:
        from transformers import pipeline

        return pipeline("token-classification", model=model, aggregation_strategy="simple",
                        model_kwargs={"local_files_only": True})
    except Exception as err:  # not in the local cache, or no network: use the rules
        log.info("NER model %s unavailable (%s); using the rule-based recogniser", model, type(err).__name__)
        return None


def ner_names(story: Story, model: str) -> list[str] | None:
    """PER entities from a transformers NER model, or None when the model cannot be loaded."""
    ner = _load_ner(model) if model else None
    if ner is None:
        return None
    found: list[str] = []
    for sent in story.events:
        for ent in ner(sent):
            if ent.get("entity_group") == "PER":
                name = ent["word"].replace(" ##", "").replace("##", "").strip()
                if name and name not in found:
                    found.append(name)
    return drop_substrings(found)


def find_characters(story: Story, ner_model: str = "") -> tuple[list[str], str]:
    """Characters of ``story`` and the method that found them (speakers | ner | rules)."""
    if story.dialogue:
        return speakers(story), "speakers"
    names = ner_names(story, ner_model)
    if names is not None:
        return names, "ner"
    return rule_names(story), "rules"
