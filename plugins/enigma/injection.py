"""Knowledge injection: the entity states reported after each event, repeats dropped.

The knowledge base reports, after every event, the state of each entity of interest. Injecting
every report would repeat "the t-shirt is in the cupboard" after each event, so a report is only
kept when it differs from the last one. Two quirks of the original are reproduced when
``faithful=True`` and fixed otherwise:

* entity keys were cleaned with ``lower().replace("the", "")``, which also cut "the" out of words
  ("underclothes" -> "underclos"); fixed: only a leading "the " is removed;
* in attribute mode, entity keys without " of "/"'s" (plain entities) were dropped; fixed: kept;
* "last report" meant the previous *non-empty* time stamp as a whole, so an entity silent at that
  stamp was compared with nothing and re-reported; fixed: each entity's own last report.
"""
from __future__ import annotations

import re

Triple = list[str]


def _clean(entity: str, faithful: bool) -> str:
    e = entity.lower()
    return e.replace("the", "").strip() if faithful else re.sub(r"^the\s+", "", e).strip()


def _split_attr(entity: str, faithful: bool) -> str | None:
    """The entity part of 'attr of entity' / "entity's attr"; None = skip (faithful only)."""
    if entity.count(" of ") == 1:
        return entity.split(" of ")[1]
    if " of " not in entity and "'s" in entity:
        return entity.rsplit("'s", 1)[0]
    return None if faithful else entity


def inject(states: list[dict[str, list[Triple]]], attributes: bool, faithful: bool) -> list[list[Triple]]:
    """Per event, the new state triples to append after it (in the knowledge base's order)."""
    out: list[list[Triple]] = []
    prev_stamp: dict[str, list[Triple]] = {}
    last: dict[str, list[Triple]] = {}
    for stamp in states:
        changes = {e: v for e, v in stamp.items() if v}
        if not changes:
            out.append([])
            continue
        new: dict[str, list[Triple]] = {}
        for raw, triples in changes.items():
            e = _clean(raw, faithful)
            if attributes:
                part = _split_attr(e, faithful)
                if part is None:
                    continue
                e = part.strip()
            new[e] = new.get(e, []) + [list(t) for t in triples] if not faithful else [list(t) for t in triples]
        kept: list[Triple] = []
        for e, triples in new.items():
            before = prev_stamp.get(e, []) if faithful else last.get(e, [])
            kept += [t for t in triples if t not in before]
        if faithful:
            prev_stamp = new
        else:
            last.update(new)
        out.append(kept)
    return out


def state_sentence(triple: Triple) -> str:
    """'Location of tshirt becomes in cupboard' / 'Tshirt becomes in cupboard' (capitalised as the
    original did: first letter up, the rest lower)."""
    x, y, state = (list(triple) + ["", "", ""])[:3]
    text = f"{y} of {x} becomes {state}" if x else f"{y} becomes {state}"
    return text.strip().capitalize()
