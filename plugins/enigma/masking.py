"""Iterative masking: keep, for each character of the belief chain, only the events it witnessed.

An event counts as witnessed by character c when c is in the room where the event happens right
after it (so c sees its own entering but not its own leaving); in dialogues, when c takes part in
the conversation right after the line. The characters of the question's belief chain (outer to
inner) filter the events one after another, so the result is what they all witnessed.

Quirks of the original, reproduced with ``faithful=True`` and fixed otherwise:

* events whose room is unknown ("none") formed a group of their own that masking never filters
  (kept for every believer); fixed: such an event joins the previous event's room;
* an event naming another room moved there only if that room is in the story's event-room
  vector (not the detected room list), by substring, room after room in the order of a ``set``;
  fixed: whole-word match against the rooms characters occupy, first (longest) match only;
* events in a room a character never occupies were not masked for it; fixed: masked (and, so
  that a container mistaken for a room does not hide its events from everyone, a room no
  character ever occupies is not treated as a room: its events join the previous event's room);
* in dialogues a presence vector that is all True or all False masked nothing; fixed: all False
  masks everything (all True keeps everything anyway);
* a room name occurring inside another word moved an event to that room ("hall" in "hallway");
  fixed: whole-word match;
* the chain was read from the whole question, so FANToM's "Information: <fact>" line made the
  people named in the fact believers; fixed: only the question's last line is read (the chain
  itself is :func:`tom_harness.data.stories.belief_chain`, shared with the prompting baselines).
"""
from __future__ import annotations

import re

IMPLICIT_ROOM = "location"
NONE_ROOM = "none"  # faithful: events of an unknown room, never masked


def group_events(texts: list[str], event_rooms: list[str | None], rooms: list[str],
                 dialogue: bool, faithful: bool, occupied: set[str] | None = None) -> dict[str, list[int]]:
    """Event indices (0-based) by room.

    ``occupied``: rooms some character is ever in. When given (fixed mode), an event placed in a
    room nobody ever occupies (a container mistaken for a room) counts as happening in the
    previous event's room; otherwise masking it for everyone would hide it from every believer.
    ``rooms`` (the detected room list) is used by the fixed mode only: the original moved events
    only between rooms of the story's event-room vector.
    """
    if dialogue:
        return {IMPLICIT_ROOM: list(range(len(texts)))}
    if faithful:
        return _faithful_groups(texts, event_rooms)
    raw = [r.lower() if r and r.lower() != "none" else None for r in event_rooms]
    first = next((r for r in raw if r), None)  # for events before any usable room
    room_of: list[str | None] = []
    prev: str | None = None
    for r in raw:
        if occupied is not None and r not in occupied:
            r = None
        r = r or prev or first
        room_of.append(r)
        prev = r
    names = sorted({r for r in room_of if r} | {r.lower() for r in rooms}, key=len, reverse=True)
    if occupied is not None:
        names = [r for r in names if r in occupied]
    for i, text in enumerate(texts):  # an event naming another room happens there
        low = text.lower()
        for other in names:
            if other != room_of[i] and re.search(rf"\b{re.escape(other)}\b", low):
                room_of[i] = other
                break
    groups: dict[str, list[int]] = {}
    for i, r in enumerate(room_of):
        if r is not None:
            groups.setdefault(r, []).append(i)
    return groups


def _faithful_groups(texts: list[str], event_rooms: list[str | None],
                     order: list[str] | None = None) -> dict[str, list[int]]:
    """The original's ``__make_location_aware_narrative``: one group per distinct room of the
    event-room vector (an unknown room is the group "none"), then, room by room, every event
    whose text contains another of those rooms' names (a substring) moves to that room; an
    event can move again when its new room's turn comes later. The original iterated a
    ``set`` (Python's per-process string-hash order); first appearance in the vector here, or
    ``order`` (a permutation of the rooms, to measure how much the order matters)."""
    vec = [str(r).lower() if r else NONE_ROOM for r in event_rooms[: len(texts)]]
    order = list(order or dict.fromkeys(vec))
    groups = {room: [i for i, r in enumerate(vec) if r == room] for room in order}
    for room in order:
        for other in order:
            if other == room:
                continue
            for i in list(groups[room]):
                if other in texts[i].lower():
                    groups[other].append(i)
                    groups[room].remove(i)
    return groups


def witnessed(vec: list[str], room: str, implicit: bool) -> set[int]:
    want = "true" if implicit else room
    return {i for i, v in enumerate(vec) if str(v).lower() == want}


def mask(groups: dict[str, list[int]], chain: list[str], locations: dict[str, list[str]],
         dialogue: bool, faithful: bool) -> dict[str, list[int]]:
    """The events each room group keeps after filtering by every chain member in turn."""
    view = {room: list(ev) for room, ev in groups.items()}
    lower = {c.lower(): v for c, v in locations.items()}
    for c in chain:
        vec = [str(v).lower() for v in lower.get(c.lower(), [])]
        if not vec:
            continue  # no location knowledge for this character (e.g. NER missed it)
        for room in groups:
            if faithful and room == NONE_ROOM:  # renamed "another_location" and never matched
                continue
            if faithful and not (room in vec or ("true" in vec and "false" in vec)):
                continue
            seen = witnessed(vec, room, dialogue)
            if faithful and not seen:
                continue
            view[room] = [i for i in view[room] if i in seen]
    return view


def kept_events(view: dict[str, list[int]]) -> list[int]:
    return sorted({i for ev in view.values() for i in ev})
