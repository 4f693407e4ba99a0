"""A deterministic world-state tracker for templated stories (ToMi, HiToM, generated stories).

It reads the fixed sentence templates ("X entered the R.", "X moved the O to the C.",
"The O is in the C.", "X, Y and Z entered the R.", "X made no movements and stayed in the R
for 1 minute.", ...), tracks where every character and object is after each event, and answers
the same questions the knowledge base answers for EnigmaToM: rooms, the room of each event,
object states and character locations. It makes no model calls, so with it the masking and
injection steps run on exact knowledge: an upper bound for the method.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from tom_harness import Story

NONE = "none"
_WHO = r"(?P<who>[A-Z][\w'-]*(?:(?:, | and )[A-Z][\w'-]*)*)"
_ENTER = re.compile(rf"^{_WHO} (?:entered|enters|went into|walked into) the (?P<room>.+?)\.?$")
_EXIT = re.compile(rf"^{_WHO} (?:exited|exits|left) the (?P<room>.+?)\.?$")
_STAY = re.compile(rf"^{_WHO} (?:made no movements and )?stayed in the (?P<room>.+?)(?: for .*)?\.?$")
_MOVE = re.compile(r"^(?P<who>[A-Z][\w'-]*) (?:moved|moves|put|puts|placed) the (?P<obj>.+?) (?:to|in|into) the (?P<cont>.+?)\.?$")
_IS_IN = re.compile(r"^(?:The |the )?(?P<obj>.+?) (?:is|are) in the (?P<cont>.+?)\.?$")
_TOLD = re.compile(r"\btold\b")
_ACTOR = re.compile(r"^(?P<who>[A-Z][\w'-]*)\b")


def _names(group: str) -> list[str]:
    return [n.strip() for n in re.split(r", | and ", group) if n.strip()]


def _norm(text: str) -> str:
    return " ".join(text.replace("_", " ").lower().split())


@dataclass
class TrackedStory:
    """Everything the tracker knows about one story, per event (after the event)."""

    rooms: list[str] = field(default_factory=list)
    event_rooms: list[str | None] = field(default_factory=list)
    locations: dict[str, list[str]] = field(default_factory=dict)
    changed: list[dict[str, str]] = field(default_factory=list)


def _first_pass(events: list[str]) -> tuple[list[str], dict[str, str]]:
    """Rooms (places characters enter, leave or stay in) and the room each container stands in."""
    rooms: list[str] = []
    for ev in events:
        for pat in (_ENTER, _EXIT, _STAY):
            m = pat.match(ev)
            if m and _norm(m.group("room")) not in rooms:
                rooms.append(_norm(m.group("room")))
    placed: dict[str, str] = {}
    for ev in events:
        m = _IS_IN.match(ev)
        if m and not _TOLD.search(ev) and _norm(m.group("cont")) in rooms:
            placed[_norm(m.group("obj"))] = _norm(m.group("cont"))
    return rooms, placed


def track(story: Story, characters: list[str]) -> TrackedStory:
    """Simulate the story; unknown sentences change nothing and happen where their actor is."""
    events = story.events
    rooms, placed = _first_pass(events)
    out = TrackedStory(rooms=list(rooms))
    where: dict[str, str] = {c: NONE for c in characters}
    objects: dict[str, str] = {}
    last_room: str | None = None
    for ev in events:
        room: str | None = None
        changed: dict[str, str] = {}
        m_enter, m_exit, m_stay = _ENTER.match(ev), _EXIT.match(ev), _STAY.match(ev)
        m_move, m_is = _MOVE.match(ev), _IS_IN.match(ev)
        if m_enter or m_stay:
            m = m_enter or m_stay
            room = _norm(m.group("room"))
            for who in _names(m.group("who")):
                where[who] = room
        elif m_exit:
            room = _norm(m_exit.group("room"))
            for who in _names(m_exit.group("who")):
                where[who] = NONE
        elif m_move:
            obj, cont = _norm(m_move.group("obj")), _norm(m_move.group("cont"))
            objects[obj] = cont
            changed[obj] = cont
            room = where.get(m_move.group("who"), NONE)
            room = room if room != NONE else placed.get(cont, last_room)
        elif m_is and not _TOLD.search(ev):
            obj, cont = _norm(m_is.group("obj")), _norm(m_is.group("cont"))
            if obj in where or m_is.group("obj") in where:  # "Jackson is in the hall."
                name = m_is.group("obj")
                where[name] = cont
                room = cont
            elif cont in rooms:  # a container placed in a room
                room = cont
                placed[obj] = cont
            else:
                objects[obj] = cont
                changed[obj] = cont
                room = placed.get(cont, last_room)
        else:
            actor = _ACTOR.match(ev)
            name = actor.group("who") if actor else ""
            room = where.get(name, NONE) if name in where else None
            room = room if room not in (None, NONE) else last_room
        if room is None and rooms:
            room = rooms[0]
        last_room = room or last_room
        out.event_rooms.append(room)
        out.changed.append(changed)
        for c in characters:
            out.locations.setdefault(c, []).append(where.get(c, NONE))
    return out


def question_object(question: str) -> str | None:
    """The object a location question asks about ("... for the t-shirt?" -> "t-shirt")."""
    m = re.search(r"\bthe ([\w' -]+?)(?: really)?(?: is| are)?(?: at the end of the story| at the beginning)?\s*\?\s*$", question.strip())
    return _norm(m.group(1)) if m else None


def reduce_question(question: str, chain: list[str]) -> str:
    """Rules-based ToM-order reduction: with the narrative masked to what the whole belief chain
    saw together, every location question becomes "Where is the O at the end of the story?"."""
    if not chain:
        return question
    obj = question_object(question)
    if obj is None or not question.strip().lower().startswith("where"):
        return question
    return f"Where is the {obj} at the end of the story?"
