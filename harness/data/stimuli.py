"""Localizer stimuli: a positive and a negative condition per network, formatted as the papers do.

In the core because two plugins contrast them: ``localizer`` (selective units) and ``steer``
(steering vectors, ``contrast=tom`` etc.).

Files come from the data directory (``<data>/localizer/...``) through
:func:`tom_harness.data.roots.data_file`, so a missing file names the fetch command. The
multiple-demand set is generated here with a seed, as in both source repositories.
"""
from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass, field

import numpy as np

from tom_harness.data.roots import data_file
from tom_harness.api.errors import UsageError

DATASET = "localizer"
NETWORKS = ("tom", "tom_ext", "pain", "lang", "md")

#: ToMechanisms' (and the anchor's) instruction, verbatim, and its item layout.
PAPER_INSTRUCTION = (
    "In this experiment, you will read a series of sentences and then answer True/False questions "
    "about them. Press button 1 to answer 'true' and button 2 to answer 'false'."
)
#: Our earlier rewording (``wording=harness``), kept selectable for comparison with old t-maps.
TOM_INSTRUCTION = (
    "In this experiment you will read short stories. After each story you will see a "
    "statement and must decide whether it is True or False. Press button 1 for True and "
    "button 2 for False."
)
TOM_TEMPLATE = "{instruction}\nStory: {story}\nQuestion: {question}\nOptions:\n- True\n- False\nAnswer: {answer}"
PAPER_TEMPLATE = "{instruction}\nStory: {story}\nQuestion: {question}\nAnswer: {answer}"
OPTIONS = "\nOptions:\n- True\n- False"
#: wording=paper: the source code's instruction and whitespace; harness: our rewording, single spaces
WORDINGS = ("paper", "harness")
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


def paper_story(text: str) -> str:
    """ToMechanisms' ``read_story``: every line stripped (blank ones too), joined by one space."""
    return " ".join(line.strip() for line in text.splitlines(keepends=True))


def paper_question(text: str) -> str:
    """ToMechanisms' ``read_question``: the text before the first blank line with its newlines
    deleted (not replaced: "home \nbelieving" -> "home believing", "discovers  \nthat" keeps two
    spaces, a trailing space stays), then the True/False options."""
    return text.split("\n\n")[0].replace("\n", "") + OPTIONS


def _tom_item(story: str, question: str, answer: str, wording: str = "harness") -> str:
    if wording == "paper":  # the question already carries its options (or none: tom_ext)
        return PAPER_TEMPLATE.format(instruction=PAPER_INSTRUCTION, story=story, question=question,
                                     answer=answer).strip()
    return TOM_TEMPLATE.format(instruction=TOM_INSTRUCTION, story=story, question=question, answer=answer)


def _with_answers(pairs: list[tuple[str, str]], rng: np.random.Generator, wording: str) -> list[str]:
    return [_tom_item(s, q, str(rng.choice(["True", "False"])), wording) for s, q in pairs]


def _check_wording(wording: str) -> None:
    if wording not in WORDINGS:
        raise UsageError(f"localizer: parameter 'wording': expected one of {'|'.join(WORDINGS)}, got {wording!r}")


def tom_localizer(seed: int = ANSWER_SEED, wording: str = "paper") -> Stimuli:
    """Dodell-Feder et al. (2011): 10 false-belief (``{i}b``) vs 10 false-photograph (``{i}p``) stories."""
    _check_wording(wording)
    rng = np.random.default_rng(seed)
    conditions = {}
    for cond in ("b", "p"):
        pairs = []
        for i in range(1, 11):
            story_text, question_text = _read(f"tomloc/{i}{cond}_story.txt"), _read(f"tomloc/{i}{cond}_question.txt")
            if wording == "paper":
                pairs.append((paper_story(story_text), paper_question(question_text)))
            else:  # the question file is: statement, a blank line, then the answer options
                pairs.append((_joined_lines(story_text), _joined_lines(question_text.split("\n\n")[0])))
        conditions[cond] = _with_answers(pairs, rng, wording)
    return Stimuli(
        "tom", tuple(conditions["b"]), tuple(conditions["p"]),
        description=f"false belief > false photograph (10 vs 10, wording={wording})", sources=("tomloc/",),
    )


def _story_question_blocks(relpath: str, wording: str = "harness") -> list[tuple[str, str]]:
    out = []
    text = _read(relpath)
    if wording == "paper":  # ToMechanisms: blocks starting "Story:" that hold "Question:"
        for block in text.split("\n\n"):
            if block.startswith("Story:") and "Question:" in block:
                story, question = block.split("Question:", 1)
                out.append((story.replace("Story:", "").strip(), question.strip()))
        return out
    for block in text.replace("\r\n", "\n").split("\n\n"):
        story = question = ""
        for line in block.strip().splitlines():
            if line.startswith("Story:"):
                story = line[len("Story:"):].strip()
            elif line.startswith("Question:"):
                question = line[len("Question:"):].strip()
        if story and question:
            out.append((story, question))
    return out


def extended_tom_localizer(seed: int = ANSWER_SEED, wording: str = "paper") -> Stimuli:
    """The extended belief vs photo set (95 vs 100 items; the photo list is cut to 95 to match).

    ``wording=paper`` has no True/False option lines, as ToMechanisms' ``ExtendedTomLocGPT4``."""
    _check_wording(wording)
    pos = _story_question_blocks("extended-tomloc/tomloc_positive.txt", wording)
    neg = _story_question_blocks("extended-tomloc/tomloc_negative.txt", wording)
    neg = neg[: len(pos)]
    rng = np.random.default_rng(seed)
    return Stimuli(
        "tom_ext", tuple(_with_answers(pos, rng, wording)), tuple(_with_answers(neg, rng, wording)),
        description=f"extended false belief > false photograph ({len(pos)} vs {len(neg)}, wording={wording})",
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


def load_stimuli(network: str, max_tokens: int | None = None, wording: str = "paper") -> Stimuli:
    """The stimuli of ``network``; ``max_tokens`` applies to the language localizer only,
    ``wording`` to the two ToM localizers only."""
    if network == "tom":
        return tom_localizer(wording=wording)
    if network == "tom_ext":
        return extended_tom_localizer(wording=wording)
    if network == "pain":
        return pain_localizer()
    if network == "lang":
        return language_localizer(max_tokens)
    if network == "md":
        return md_localizer()
    raise UsageError(f"localizer: parameter 'network': expected one of {'|'.join(NETWORKS)}, got {network!r}")
