"""Localizer stimuli: a positive and a negative condition per network, formatted as the papers do.

Files come from the data directory (``<data>/localizer/...``) through
:func:`tom_harness.datadir.data_file`, so a missing file names the fetch command. The
multiple-demand set is generated here with a seed, as in both source repositories.
"""
from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass, field

import numpy as np

from tom_harness.datadir import data_file
from tom_harness.errors import UsageError

DATASET = "localizer"
NETWORKS = ("tom", "tom_ext", "pain", "lang", "md")

#: Our own wording of the Saxe-lab task instruction the ToM localizer items start with.
TOM_INSTRUCTION = (
    "In this experiment you will read short stories. After each story you will see a "
    "statement and must decide whether it is True or False. Press button 1 for True and "
    "button 2 for False."
)
TOM_TEMPLATE = "{instruction}\nStory: {story}\nQuestion: {question}\nOptions:\n- True\n- False\nAnswer: {answer}"
ANSWER_SEED = 42  # ToMechanisms seeds the random True/False answer word with 42
MD_SEED = 42
MD_ITEMS = 100


@dataclass(frozen=True)
class Stimuli:
    """Positive and negative texts of one localizer; the contrast is positive minus negative.

    ``max_tokens`` truncates each tokenized stimulus (the anchor paper cuts language stimuli at 12
    tokens); None keeps whole stimuli.
    """

    network: str
    positive: tuple[str, ...]
    negative: tuple[str, ...]
    max_tokens: int | None = None
    description: str = ""
    sources: tuple[str, ...] = field(default=(), compare=False)

    @property
    def fingerprint(self) -> str:
        """sha256 of the exact texts and truncation: any change to data or formatting changes it."""
        blob = json.dumps([self.network, list(self.positive), list(self.negative), self.max_tokens])
        return hashlib.sha256(blob.encode()).hexdigest()

    @property
    def texts(self) -> list[str]:
        return list(self.positive) + list(self.negative)


def _joined_lines(text: str) -> str:
    """Hard-wrapped Saxe-lab text as one line: stripped lines joined by single spaces."""
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


def _read(relpath: str) -> str:
    return data_file(DATASET, relpath).read_text(encoding="utf-8", errors="replace")


def _tom_item(story: str, question: str, answer: str) -> str:
    return TOM_TEMPLATE.format(instruction=TOM_INSTRUCTION, story=story, question=question, answer=answer)


def _with_answers(pairs: list[tuple[str, str]], rng: np.random.Generator) -> list[str]:
    return [_tom_item(s, q, str(rng.choice(["True", "False"]))) for s, q in pairs]


def tom_localizer(seed: int = ANSWER_SEED) -> Stimuli:
    """Dodell-Feder et al. (2011): 10 false-belief (``{i}b``) vs 10 false-photograph (``{i}p``) stories."""
    rng = np.random.default_rng(seed)
    conditions = {}
    for cond in ("b", "p"):
        pairs = []
        for i in range(1, 11):
            story = _joined_lines(_read(f"tomloc/{i}{cond}_story.txt"))
            # the question file is: statement, a blank line, then the answer options
            question = _joined_lines(_read(f"tomloc/{i}{cond}_question.txt").split("\n\n")[0])
            pairs.append((story, question))
        conditions[cond] = _with_answers(pairs, rng)
    return Stimuli(
        "tom", tuple(conditions["b"]), tuple(conditions["p"]),
        description="false belief > false photograph (10 vs 10)", sources=("tomloc/",),
    )


def _story_question_blocks(relpath: str) -> list[tuple[str, str]]:
    out = []
    for block in _read(relpath).replace("\r\n", "\n").split("\n\n"):
        story = question = ""
        for line in block.strip().splitlines():
            if line.startswith("Story:"):
                story = line[len("Story:"):].strip()
            elif line.startswith("Question:"):
                question = line[len("Question:"):].strip()
        if story and question:
            out.append((story, question))
    return out


def extended_tom_localizer(seed: int = ANSWER_SEED) -> Stimuli:
    """The extended belief vs photo set (95 vs 100 items; the photo list is cut to 95 to match)."""
    pos = _story_question_blocks("extended-tomloc/tomloc_positive.txt")
    neg = _story_question_blocks("extended-tomloc/tomloc_negative.txt")
    neg = neg[: len(pos)]
    rng = np.random.default_rng(seed)
    return Stimuli(
        "tom_ext", tuple(_with_answers(pos, rng)), tuple(_with_answers(neg, rng)),
        description=f"extended false belief > false photograph ({len(pos)} vs {len(neg)})",
        sources=("extended-tomloc/",),
    )


def pain_localizer() -> Stimuli:
    """Saxe-lab emotional pain (positive) vs physical pain (negative), each wrapped as ``Story: ...``."""

    def lines(name: str) -> tuple[str, ...]:
        return tuple(f"Story: {ln.strip()}" for ln in _read(f"pain-tom/{name}").splitlines() if ln.strip())

    pos, neg = lines("emotion_pain.txt"), lines("physical_pain.txt")
    return Stimuli("pain", pos, neg, description=f"emotional > physical pain ({len(pos)} vs {len(neg)})",
                   sources=("pain-tom/",))


def language_localizer(max_tokens: int | None = None) -> Stimuli:
    """Fedorenko langloc: 240 sentences (S) vs 240 non-word strings (N), 12 lower-cased words each."""
    pos: list[str] = []
    neg: list[str] = []
    for run in (1, 2):
        for stim_set in range(1, 6):
            path = data_file(DATASET, f"langloc/langloc_fmri_run{run}_stim_set{stim_set}.csv")
            with open(path, newline="", encoding="utf-8") as f:
                for row in csv.DictReader(f):
                    words = [row[f"stim{i}"].strip().lower() for i in range(2, 14)]
                    text = " ".join(w for w in words if w)
                    cond = row["stim14"].strip()
                    if cond == "S":
                        pos.append(text)
                    elif cond == "N":
                        neg.append(text)
    return Stimuli("lang", tuple(pos), tuple(neg), max_tokens=max_tokens,
                   description=f"sentences > non-words ({len(pos)} vs {len(neg)})", sources=("langloc/",))


def md_localizer(seed: int = MD_SEED, n: int = MD_ITEMS) -> Stimuli:
    """Multiple demand: hard (operands in [100, 200)) vs easy (operands in [1, 20)) arithmetic.

    Each condition restarts the generator from ``seed``, so item i has the same operator in both.
    """

    def items(low: int, high: int) -> tuple[str, ...]:
        rng = np.random.default_rng(seed)
        ops = rng.choice(["+", "-"], size=n)
        a = rng.integers(low, high, size=n)
        b = rng.integers(low, high, size=n)
        return tuple(
            f"Question: Solve {x} {op} {y}?\nAnswer: {x + y if op == '+' else x - y}"
            for op, x, y in zip(ops, a.tolist(), b.tolist())
        )

    return Stimuli("md", items(100, 200), items(1, 20),
                   description=f"hard > easy arithmetic ({n} vs {n}, seed {seed})")


def load_stimuli(network: str, max_tokens: int | None = None) -> Stimuli:
    """The stimuli of ``network``; ``max_tokens`` applies to the language localizer only."""
    if network == "tom":
        return tom_localizer()
    if network == "tom_ext":
        return extended_tom_localizer()
    if network == "pain":
        return pain_localizer()
    if network == "lang":
        return language_localizer(max_tokens)
    if network == "md":
        return md_localizer()
    raise UsageError(f"localizer: parameter 'network': expected one of {'|'.join(NETWORKS)}, got {network!r}")
