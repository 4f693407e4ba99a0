"""What every ``faithful=true`` comparison method shares: EnigmaToM's inputs and conventions.

The original (seacowx/EnigmaToM @eb8b8b5, ``src/methods/*.py``) sends chat messages to an
OpenAI-compatible server: temperature 0, 1024 new tokens unless a call says otherwise (its
``components/llms.py`` default), 512 for the masktom evaluator's answers, 5000 for PercepToM's
perception call. It reads the characters of each story from its NER file (our
``enigma_cache/<dataset>/seed<N>/characters.json``) and splits stories into indexed sentences
its own way. The prompt texts are its templates, read from the data directory
(:mod:`tom_harness.task_yamls.paper_prompts`).
"""
from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from tom_harness import DataMissingError, PromptEdit, Story, TaskInfo, data_file, find_characters
from tom_harness.task_yamls.helpers import PAPER_DATASETS, SEEDS

#: the original's default ``max_tokens`` (components/llms.py), used by every call that sets none
PREP_TOKS = 1024
#: the masktom evaluator's answer budget (vanilla, CoT and SimToM answers)
ANSWER_TOKS = 512
#: PercepToM's perception call, and its re-asks
PERCEPTION_TOKS, PERCEPTION_RETRY_TOKS = 5000, 4000


def not_faithful_reason(task: TaskInfo) -> str | None:
    """Why ``faithful=true`` cannot apply: the original has no prompt for the dataset, or the task
    cannot generate an answer."""
    ds = str(task.trait("dataset") or task.family).split("_")[0]
    if ds not in PAPER_DATASETS:
        return (f"faithful=true: the original (EnigmaToM @eb8b8b5) has no prompt for dataset {ds!r} "
                f"(its dataset_eval_config.yml covers {', '.join(PAPER_DATASETS)} among ours)")
    if "generate_until" not in (task.trait("output_type") or ()):
        return "faithful=true: the original generates its answers; this task scores log-likelihoods"
    return None


@lru_cache(maxsize=None)
def _ner_file(dataset: str, seed: int) -> dict[str, list[str]]:
    try:
        path = data_file("enigma_cache", f"{dataset}/seed{seed}/characters.json")
    except DataMissingError:  # no NER file for this seed: our recogniser
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def paper_characters(story: Story) -> list[str]:
    """The original's character list of ``story``: its NER file of the story's seed, else of any
    seed that holds the story (the ``*_full`` tasks), else our recogniser."""
    dataset = story.dataset.split("_")[0]
    for seed in (story.seed, *SEEDS):
        found = _ner_file(dataset, seed).get(story.id)
        if found is not None:
            return list(found)
    return find_characters(story)[0]


def indexed_sentences(narrative: str, dialogue: bool) -> list[str]:
    """``"1: <sentence>."`` lines, as DWM and PercepToM built them: dialogues by line, stories by
    ". " (line breaks first turned into spaces), a full stop put back on every piece."""
    if dialogue:
        parts = narrative.split("\n")
    else:
        parts = (narrative + " ").replace("\n\n", " ").replace("\n", " ").split(". ")
    return [f"{n}: {p}." for n, p in enumerate((p for p in parts if p.strip()), start=1)]


def whole_prompt(messages: list[dict[str, str]], budget: int, **info: Any) -> PromptEdit:
    """The original's whole prompt (every turn), its answer budget and no stop string."""
    return PromptEdit(messages=messages, gen_kwargs={"until": [], "max_gen_toks": budget},
                      info={"turns": messages, **info})
