"""Lore, Ilami & Heydari (2024) strategic games: one document per social context x game scenario.

The measured quantity is a *distribution*: the share of answers that pick strategy C when the same
scenario is sampled many times (``--repeats N`` with sampling gen_kwargs). Each response is scored
0/1 for ``share_c`` / ``share_d`` / ``share_other`` by the original's parsing rule, so the mean
over repeats of one document is that scenario's share of C, and the items file keeps the counts.

Layouts (the words are the original ``mainloop.py``'s, as the data README gives them):

* ``chat`` (``sg_*`` tasks): the context as the system message (the task's ``description``), the
  instruction and the game as the user message; ``--apply_chat_template`` renders them with the
  model's own template (without it lm-eval joins system and user text).
* ``paper`` (``sg_*_paper`` tasks): the original's hand-built Llama-2 string, literal ``<>``
  markers and the doubled system block included; run it without ``--apply_chat_template``.
"""
from __future__ import annotations

import re
from typing import Any

from tom_harness import data_file
from tom_harness.api import UsageError

DATASET = "strategic_games"
CONTEXTS = ("IR", "biz", "environment", "friendsharing", "team")
CONTEXTS_OOS = ("sports", "roomsharing", "ventcap")
GAMES = ("prison", "delight", "staghunt", "snowdrift")
SPLITS = ("in_sample", "oos_context", "ood_game")

SYSTEM_LEAD = "Consider the proposed scenario and act as if you were taking part in it. \n"
INSTRUCTION = (" Respond to the following using exactly one letter to denote your choice. Your answer "
               "must either consist of the letter 'C' for strategy C or 'D' for strategy D.")
USER_LEAD = "\nUser: "
# mainloop.py's Llama-2 markers: B_SYS/E_SYS are the literal "<>" (not "<<SYS>>")
B_INST, E_INST = "[INST]", "[/INST]"
B_SYS, E_SYS = "<>\n", "\n<>\n\n"

_PAYOFF = re.compile(r"\d+(?= points?\b)")


def read_text(relpath: str) -> str:
    """A data file as the original read it (``open(...).read()``: universal newlines)."""
    with open(data_file(DATASET, relpath), encoding="utf-8") as fh:
        return fh.read()


def double_payoffs(game: str) -> str:
    """The out-of-distribution game: every payoff (a number followed by 'point(s)') doubled."""
    return _PAYOFF.sub(lambda m: str(2 * int(m.group())), game)


def scenarios(split: str, reasoning: bool = True) -> list[dict[str, Any]]:
    """The documents of one split, in the order of the released files (context-major)."""
    if split not in SPLITS:
        raise UsageError(f"strategic_games: unknown split {split!r}; valid: {', '.join(SPLITS)}")
    folder = "contexts_oos" if split == "oos_context" else "contexts"
    contexts = CONTEXTS_OOS if split == "oos_context" else CONTEXTS
    game_dir = "games" if reasoning else "games_no_reasoning"
    rows = []
    for ctx in contexts:
        context = read_text(f"{folder}/{ctx}.txt")
        for game in GAMES:
            text = read_text(f"{game_dir}/{game}.txt")
            key = f"{ctx}_{game}"
            if split == "ood_game":
                text, key = double_payoffs(text), key + "_d"
            rows.append({
                "scenario": key, "context": ctx, "game": game, "split": split, "reasoning": reasoning,
                "context_text": context, "game_text": text,
                "system": SYSTEM_LEAD + context, "user": INSTRUCTION + USER_LEAD + text,
            })
    return rows


def load(tomh_split: str = "in_sample", tomh_reasoning: Any = True, **_: Any) -> Any:
    """``custom_dataset`` of every task in the folder (``dataset_kwargs`` pick the split)."""
    import datasets

    reasoning = str(tomh_reasoning).lower() not in ("false", "0", "no")
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(scenarios(tomh_split, reasoning))})


# -- prompts ------------------------------------------------------------------------------------

def doc_to_text(doc: dict) -> str:
    """Chat layout: the user message (the system message is the task's ``description``)."""
    return doc["user"]


def paper_prompt(doc: dict) -> str:
    """The original's string: ``get_prompt(human_msg, sys_msg)`` where ``sys_msg`` already carries
    the system markers, so they appear twice, and the instruction sits in its own [INST] pair."""
    sys_msg = B_SYS + doc["system"] + E_SYS
    human_msg = B_INST + INSTRUCTION + E_INST + USER_LEAD + doc["game_text"]
    return B_INST + B_SYS + sys_msg + E_SYS + human_msg + E_INST


# -- scoring ------------------------------------------------------------------------------------

def parse_choice(response: str) -> str:
    """The original's rule: both letters anywhere -> the response's first character; only 'C'
    -> C; only 'D' -> D; neither -> other. Case-sensitive substring tests, as the original."""
    has_c, has_d = "C" in response, "D" in response
    if has_c and has_d:
        first = response[0]
        return first if first in ("C", "D") else "other"
    if has_c:
        return "C"
    if has_d:
        return "D"
    return "other"


def process_results(doc: dict, results: list) -> dict[str, float | None]:
    """0/1 per category; ``None`` for a repeat with no recorded answer (replay ``missing=short``:
    left out of the scenario's shares by the repeats scorer)."""
    if results[0] is None:
        return {"share_c": None, "share_d": None, "share_other": None}
    choice = parse_choice(results[0])
    return {"share_c": float(choice == "C"), "share_d": float(choice == "D"), "share_other": float(choice == "other")}
