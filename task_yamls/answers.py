"""The strict default answer parser shared by every task's ``process_results`` (metric ``acc``).

One rule set, so a "correct" means the same thing on every benchmark: the answer is read from
the ``<answer>`` block (or a documented fallback), and it is credited only if it names exactly
one option in a form that cannot be an ordinary word, a refusal or a hedge. Each parser returns
``None`` when the answer names no option or several; the tasks score ``None`` as wrong. The
paper's own scorers (``acc_paper``) stay in the benchmark folders, quirks included.
Rules and examples: docs/benchmarks.md, "Scoring"; table of cases: tests/test_scoring_strict.py.
"""
from __future__ import annotations

import re
from typing import Sequence

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

_OPEN = re.compile(r"<\s*answer\s*>", re.I)
_CLOSE = re.compile(r"<\s*/\s*answer\s*>", re.I)
# "answer" as a whole word, not inside a tag ("</answer>") nor a longer word ("answered").
_LEAD_IN = re.compile(r"(?<![<\w/])(?:the\s+)?(?:final\s+|correct\s+)?answer\b(?:\s+is\b)?\s*[:\-]?\s*", re.I)
_WRAP = "*`'\"“”‘’ \t\n"


# -- where the answer is ------------------------------------------------------------------------

def answer_blocks(text: str) -> list[str]:
    """Contents of every ``<answer>`` block; an unclosed last block counts (generation usually
    stops at ``</answer>``, which lm-eval then removes)."""
    blocks = []
    for m in _OPEN.finditer(text):
        rest = text[m.end():]
        close, nxt = _CLOSE.search(rest), _OPEN.search(rest)
        end = min(x.start() for x in (close, nxt) if x) if (close or nxt) else len(rest)
        blocks.append(rest[:end].strip())
    return blocks


def after_lead_in(text: str) -> str:
    """Text after the last "answer" / "the answer is" / "final answer:" lead-in, else ``text``."""
    hits = list(_LEAD_IN.finditer(text))
    return text[hits[-1].end():] if hits else text


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def fallback_answer(text: str) -> str:
    """A response with no ``<answer>`` tag: the text before a stray ``</answer>`` if there is
    one, then the text after the last lead-in, then its first non-empty line."""
    close = _CLOSE.search(text)
    if close:
        before = [line for line in text[: close.start()].splitlines() if line.strip()]
        text = before[-1] if before else ""
    return _first_line(after_lead_in(text))


def extract(text: str) -> tuple[str, bool]:
    """(answer text, whether it came from tags).

    Several blocks that disagree are a hedge: they come back joined by " or ", which every
    parser below rejects (with the default stop string only one block is ever generated).
    A lead-in that opens a block is dropped (``<answer>The answer is B</answer>``).
    """
    blocks = [_LEAD_IN.sub("", b, count=1).strip() if _LEAD_IN.match(b) else b for b in answer_blocks(text)]
    if not blocks:
        return fallback_answer(text), False
    seen: dict[str, str] = {}
    for block in blocks:
        if norm_words(block):
            seen.setdefault(norm_words(block), block)
    distinct = list(seen.values())
    return (" or ".join(distinct) if len(distinct) > 1 else (distinct or [""])[0]), True


# -- normalisation ------------------------------------------------------------------------------

def norm_words(text: str) -> str:
    """Lowercase, ``_`` -> space, punctuation to spaces, single spaces (for phrase matching)."""
    text = text.lower().replace("_", " ")
    text = re.sub(r"[^\w\s]", " ", text)
    return " ".join(text.split())


def _norm_option(text: str) -> str:
    """``norm_words`` without a leading article: "the green bottle." == "green bottle"."""
    return re.sub(r"^(?:the|a|an) ", "", norm_words(text))


def mentions(text: str, phrase: str) -> bool:
    """Whole-word, normalised occurrence of ``phrase`` in ``text``."""
    t, p = f" {norm_words(text)} ", f" {norm_words(phrase)} "
    return p.strip() != "" and p in t


def named_options(text: str, options: Sequence[str]) -> list[int]:
    """Indices of the options ``text`` names as whole words; longer names claim their words
    first, so "red box" is not also read as "box"."""
    t = f" {norm_words(text)} "
    found = []
    for i in sorted(range(len(options)), key=lambda i: -len(norm_words(options[i]))):
        p = f" {norm_words(options[i])} "
        if p.strip() and p in t:
            found.append(i)
            t = t.replace(p, " | ")
    return sorted(found)


# -- parsers --------------------------------------------------------------------------------------

_LETTER = re.compile(r"^(?:(?:option|choice|letter)\s+)?([\(\[]?)([A-Za-z])([\)\]]?)(?=$|[\s.:)\]])[.:)]?(.*)$",
                     re.I | re.S)


def choose_option(answer: str, options: Sequence[str]) -> int | None:
    """Index of the one option ``answer`` picks, by letter or by the option's own text.

    A letter counts only as a standalone token (``B``, ``b``, ``(B)``, ``B.``, ``B)``, ``B:``,
    ``**B**``, ``Option B``), optionally followed by the option's own text (``B. green bottle``);
    anything else after it makes it an ordinary word ("I think ...") or a hedge ("A or B").
    Otherwise the answer must equal one option's text (case and punctuation ignored; a leading
    article too, unless it could be a capital option letter: "A red box" is neither A nor "red
    box" when A is not the red box). Used for Hi-ToM, FANToM belief and two-way sentence
    choices (BigToM).
    """
    core = answer.strip().strip(_WRAP)
    exact = [i for i, opt in enumerate(options) if norm_words(core) and norm_words(core) == norm_words(opt)]
    if len(exact) == 1:
        return exact[0]
    m = _LETTER.match(core)
    if m and (m.group(3) or not m.group(1)):  # "(B" is unbalanced; "B)" is a letter
        idx = LETTERS.find(m.group(2).upper())
        rest = m.group(4).strip().strip(_WRAP)
        if 0 <= idx < len(options):
            if not rest or _norm_option(rest) == _norm_option(options[idx]):
                return idx
            if m.group(2).isupper():
                return None
    loose = [i for i, opt in enumerate(options) if _norm_option(core) and _norm_option(core) == _norm_option(opt)]
    return loose[0] if len(loose) == 1 else None


def letter_of(answer: str, options: Sequence[str]) -> str | None:
    """The letter of :func:`choose_option`'s pick, or None."""
    idx = choose_option(answer, options)
    return None if idx is None else LETTERS[idx]


_YES_NO = re.compile(r"^(yes|no)\b(.*)$", re.I | re.S)


def yes_no(answer: str) -> str | None:
    """"yes" / "no" only as a standalone reply: the word alone or followed by punctuation or a
    line break ("No.", "No, she was away"). "No idea", "no way to tell" (refusals), "yes or no",
    "yes/no" (hedges) and answers naming both words give None."""
    core = answer.strip().strip(_WRAP + "[]()")
    m = _YES_NO.match(core)
    if not m or not re.match(r"^(?:[ \t]*[.,!;:)\]]|[ \t]*\n|[ \t]*$)", m.group(2)):
        return None
    words = set(norm_words(core).split())
    return None if {"yes", "no"} <= words else m.group(1).lower()


_FILLERS = re.compile(r"^(?:both|only|just)\s+", re.I)


def name_list(answer: str, candidates: Sequence[str] = ()) -> set[str] | None:
    """Lowercased names of a list answer, or None for a hedge or a non-name item.

    The list may follow a colon ("The characters who know are: Bennett, Adelyn"), sit in
    brackets or quotes, and be separated by commas, semicolons, line breaks, "and" or "&".
    "or" / "/" make it a hedge. With ``candidates`` (the names shown), every item must be one.
    """
    text = answer.rsplit(":", 1)[-1]
    text = re.sub(r"[\[\]\(\)]", " ", text)
    if re.search(r"\bor\b|/", text, re.I):
        return None
    items = [_FILLERS.sub("", p.strip().strip(_WRAP + ".")).strip() for p in re.split(r",|;|\n|\band\b|&", text)]
    names = {i.lower() for i in items if i}
    known = {c.lower() for c in candidates}
    if known and not names <= known:
        return None
    return names


_NEGATION = re.compile(r"\b(?:not|no|never|nowhere)\b|n't", re.I)


def one_container(answer: str, containers: Sequence[str]) -> str | None:
    """The one container ``answer`` names (whole words, ``_`` = space), or None if it names
    none, several ("basket or cupboard") or negates ("not the basket")."""
    if _NEGATION.search(answer):
        return None
    hits = named_options(answer, containers)
    return containers[hits[0]] if len(hits) == 1 else None


def completion_word(generation: str) -> str:
    """First whitespace-separated word with ``. , ' " ;`` removed (case kept): Wu et al.'s rule."""
    words = generation.strip().split()
    return re.sub(r"[.,'\";]", "", words[0]) if words else ""


def completion_hedged(generation: str) -> bool:
    """A completion that offers two objects: its second word is "or" ("beer or wine")."""
    words = generation.strip().split()
    return len(words) > 1 and words[1].strip(".,;").lower() == "or"
