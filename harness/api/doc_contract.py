"""The doc contract: the fields of a task document that prompt methods and the harness rely on.

lm-eval hands interventions one document per question. ``sbs``, ``cot``, ``simtom``, ``enigma``
and friends read ``narrative`` and ``question`` (and splice edits at them in the rendered prompt),
group docs into stories by ``story_id``, find cached artifacts by ``dataset`` and ``seed``, and
may ask ``reduced_question`` instead of the question. Every loader in ``task_yamls`` passes its
rows through :func:`validate`, so a bad file fails at load time with the file and the item named,
not deep inside a method. Task authors: see docs/tasks.md ("The doc contract").
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from tom_harness.api.errors import DataMissingError


class DocContractError(DataMissingError):
    """A loader produced a document that breaks the contract (exit 2, names file and item)."""


@dataclass(frozen=True)
class Field:
    name: str
    types: tuple[type, ...]
    required: bool
    meaning: str
    nullable: bool = False


#: documents of tasks that ask questions about a narrative (every ToM task)
STORY_FIELDS: tuple[Field, ...] = (
    Field("narrative", (str,), True, "the story, verbatim in the prompt before the question"),
    Field("question", (str,), True, "the question, verbatim in the prompt after the narrative"),
    Field("story_id", (str,), True, "the story's id; the questions of one story share it and its narrative"),
    Field("dataset", (str,), True, "the data-directory dataset (or generator) the doc comes from"),
    Field("seed", (int,), True, "the seed of the seed file the doc comes from; -1 for full files and generated stories"),
    Field("q_index", (int,), False, "position of the question within its story"),
    Field("reduced_question", (str,), False, "the question with its outer believers removed (None where the data has none)", nullable=True),
    Field("choices", (list,), False, "the answer options shown in the prompt, in prompt order (strings)"),
    Field("answer", (str,), False, "the gold answer text"),
    Field("mc_choices", (list,), False, "log-likelihood tasks: the continuations scored (strings)"),
    Field("mc_gold", (int,), False, "log-likelihood tasks: index of the gold continuation in mc_choices"),
)
#: at least one of these carries the gold answer (tasks name theirs; ``answer`` is the default)
GOLD_FIELDS = ("answer", "gold", "gold_letter", "gold_list", "expected", "mc_gold")
#: documents of plain-text tasks (perplexity): no question, so prompt methods do not apply
TEXT_FIELDS: tuple[Field, ...] = (
    Field("text", (str,), True, "the text scored"),
)


def _item(row: dict, n: int) -> str:
    sid, qi = row.get("story_id"), row.get("q_index")
    where = f"row {n}"
    if sid is not None:
        where += f" (story {sid}" + (f", question {qi})" if qi is not None else ")")
    return where


def _type_ok(value: Any, f: Field) -> bool:
    if value is None:
        return f.nullable
    if bool in f.types:
        return isinstance(value, bool)
    if isinstance(value, bool):  # True is an int in Python; a bool seed or index is a bug
        return False
    if not isinstance(value, f.types):
        return False
    if list in f.types:
        return all(isinstance(x, str) for x in value)
    return True


def problems(row: dict, fields: Iterable[Field] = STORY_FIELDS, gold: bool = True) -> list[str]:
    """What is wrong with one document (empty when it meets the contract)."""
    out = []
    for f in fields:
        if f.name not in row:
            if f.required:
                out.append(f"field {f.name!r} is missing ({f.meaning})")
            continue
        value = row[f.name]
        if not _type_ok(value, f):
            want = "|".join(t.__name__ for t in f.types) + (" of str" if list in f.types else "")
            out.append(f"field {f.name!r} is {type(value).__name__} {value!r:.60}, expected {want}"
                       + (" or None" if f.nullable else ""))
        elif f.required and isinstance(value, str) and f.name in ("narrative", "story_id", "dataset") and not value.strip():
            out.append(f"field {f.name!r} is empty")
    if gold and not any(g in row for g in GOLD_FIELDS):
        out.append(f"no gold field (one of {', '.join(GOLD_FIELDS)})")
    if "mc_gold" in row and "mc_choices" in row and isinstance(row["mc_gold"], int) and isinstance(row["mc_choices"], list):
        if not 0 <= row["mc_gold"] < len(row["mc_choices"]):
            out.append(f"mc_gold {row['mc_gold']} is not an index of mc_choices ({len(row['mc_choices'])} options)")
    return out


def validate(rows: list[dict], source: str, fields: Iterable[Field] = STORY_FIELDS, gold: bool = True) -> list[dict]:
    """Return ``rows`` unchanged, or raise :class:`DocContractError` naming ``source`` (the file
    or generator) and the first offending item."""
    fields = tuple(fields)
    if not rows:
        raise DocContractError(f"{source}: the loader produced no documents (the data holds no questions)")
    for n, row in enumerate(rows):
        bad = problems(row, fields, gold)
        if bad:
            more = sum(1 for r in rows[n + 1:] if problems(r, fields, gold))
            tail = f" ({more} more document(s) break the contract)" if more else ""
            raise DocContractError(f"{source}: {_item(row, n)}: {'; '.join(bad)}{tail}. "
                                   "See docs/tasks.md, 'The doc contract'.")
    return rows
