"""Knowledge injection: the entity states reported after each event, repeats dropped.

The knowledge base reports, after every event, the state of each entity of interest. Injecting
every report would repeat "the t-shirt is in the cupboard" after each event, so a report is only
kept when it differs from the last one. :func:`inject` returns, per event, *rendering triples*
``[entity, attribute, state]`` (``entity`` empty for a plain state), named from the entity
**key** the pipeline asked about, as the original did, not from the knowledge base's own words.

Quirks of the original (``construct_states/state_builder.py``), reproduced when
``faithful=True`` and fixed otherwise:

* keys were cleaned with ``lower().replace("the", "")``, which also cuts "the" out of words:
  "the plum" -> "plum" but "underclothes" -> "underclos", and the injected sentence is rendered
  from that cleaned key ("Underclos becomes ..."); fixed: only a leading "the " is removed
  (from the key and from its entity part), so "Underclothes becomes ...";
* possessive keys ``"x's y"`` were split with ``attr, e = key.rsplit("'s", 1)`` and the *second*
  part kept as the entity, so "skirt's location" renders as "Location becomes ..."; fixed: the
  part before "'s" is the entity and the part after the attribute: "Location of skirt becomes ...";
* in attribute mode, keys without " of "/"'s" (plain entities) and keys with two " of " were
  dropped; fixed: kept (plain keys as plain states; "a of b of c" splits at the first " of ");
* whether an entity's states render as attribute states was decided by the first triple's
  entity slot; fixed: by the key's own form;
* "last report" meant the previous *non-empty* time stamp as a whole, so an entity silent at that
  stamp was compared with nothing and re-reported; fixed: each entity's own last report.
"""
from __future__ import annotations

import re

Triple = list[str]


def _strip_the(text: str) -> str:
    return re.sub(r"^the\s+", "", text.strip()).strip()


def faithful_key(raw: str, attributes: bool) -> tuple[str, str] | None:
    """(attribute, entity) as the original derived them from a key; None = dropped."""
    e = raw.lower()
    if "the" in e:
        e = e.replace("the", "").strip()
    if not attributes:
        return "", e
    if " of " in e:
        parts = [p.strip() for p in e.split(" of ")]
        return (parts[0], parts[1]) if len(parts) == 2 else None
    if "'s" in e:
        attr, ent = (p.strip() for p in e.rsplit("'s", 1))
        return attr, ent
    return None


def fixed_key(raw: str, attributes: bool) -> tuple[str, str]:
    """(attribute, entity) of a key: "location of the plum" -> (location, plum), "skirt's
    location" -> (location, skirt); plain keys have no attribute."""
    e = _strip_the(raw.lower())
    if attributes and " of " in e:
        attr, ent = e.split(" of ", 1)
        return attr.strip(), _strip_the(ent)
    if attributes and "'s " in e:
        ent, attr = e.rsplit("'s ", 1)
        return attr.strip(), _strip_the(ent)
    return "", e


def _faithful_render(entity: str, triples: list[Triple]) -> list[Triple]:
    """The original's sentence parts for one entity: plain when the first triple has no entity
    slot, else "<triple attribute> of <key entity>"; attribute sentences de-duplicated."""
    entity = " ".join(entity.split("_"))
    states = [t for t in triples if t]
    if not states:
        return []
    if not states[0][0]:
        return [["", entity.strip(), t[-1].strip()] for t in states]
    out = {(entity, t[1].strip(), t[-1].strip()): None for t in states if len(t) > 1}
    return [list(k) for k in out]  # the original used set(): order arbitrary, first-seen here


def _fixed_render(attr: str, entity: str, triples: list[Triple]) -> list[Triple]:
    return [[entity, attr, t[-1].strip()] if attr else ["", entity, t[-1].strip()] for t in triples if t]


def inject(states: list[dict[str, list[Triple]]], attributes: bool, faithful: bool) -> list[list[Triple]]:
    """Per event, the rendering triples of the new states to append after it."""
    return _inject_faithful(states, attributes) if faithful else _inject_fixed(states, attributes)


def _inject_faithful(states: list[dict[str, list[Triple]]], attributes: bool) -> list[list[Triple]]:
    out: list[list[Triple]] = []
    prev: dict[str, list[Triple]] = {}
    for stamp in states:
        reported = {raw: triples for raw, triples in stamp.items() if triples}
        if not reported:  # a silent stamp leaves the comparison stamp as it was
            out.append([])
            continue
        new: dict[str, list[Triple]] = {}
        for raw, triples in reported.items():
            key = faithful_key(raw, attributes)
            if key is not None:
                new[key[1]] = [list(t) for t in triples]  # a later key with the same entity wins
        kept: list[Triple] = []
        for entity, triples in new.items():
            before = prev.get(entity, [])
            kept += _faithful_render(entity, [t for t in triples if t not in before])
        prev = new
        out.append(kept)
    return out


def _inject_fixed(states: list[dict[str, list[Triple]]], attributes: bool) -> list[list[Triple]]:
    out: list[list[Triple]] = []
    last: dict[tuple[str, str], list[Triple]] = {}
    for stamp in states:
        kept: list[Triple] = []
        for raw, triples in stamp.items():
            if not triples:
                continue
            key = fixed_key(raw, attributes)
            fresh = [list(t) for t in triples if list(t) not in last.get(key, [])]
            kept += _fixed_render(key[0], key[1], fresh)
            last[key] = [list(t) for t in triples]
        out.append(kept)
    return out


def state_sentence(triple: Triple, capitalize: bool = True) -> str:
    """'Location of tshirt becomes in cupboard' / 'Tshirt becomes in cupboard'. Capitalised as the
    original did (first letter up, the rest lower) except in its markdown layout."""
    x, y, state = (list(triple) + ["", "", ""])[:3]
    text = f"{y.strip().capitalize()} of {x} becomes {state}" if x else f"{y} becomes {state}"
    return text.strip().capitalize() if capitalize else text.strip()
