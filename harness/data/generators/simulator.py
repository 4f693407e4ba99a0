"""An independent who-saw-what simulator: reads a story's *text*, replays it, answers questions.

It shares no code with the generators. World model: agents are in a room or not; an object
event (placement or move) is witnessed by the agents in its room at that moment; a belief held
jointly by agents a1..ak (``a1 thinks a2 thinks ...``) is the location set by the last event all
of them witnessed. A claim ("X privately told Y ...", "X publicly claimed ...") sets a
listener's own belief if the speaker left the object's room later than the listener.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

_NAMES = r"[A-Z][a-z]+(?:(?:, | and )[A-Z][a-z]+)*"
_RULES = [
    ("enter", re.compile(rf"^({_NAMES}) entered the (.+)$")),
    ("exit", re.compile(r"^([A-Z][a-z]+) exited the (.+)$")),
    ("place", re.compile(r"^The (.+?) is in the (.+)$")),
    ("move", re.compile(r"^([A-Z][a-z]+) moved the (.+?) to the (.+)$")),
    ("tell", re.compile(r"^([A-Z][a-z]+) privately told ([A-Z][a-z]+) that the (.+?) is in the (.+)$")),
    ("claim", re.compile(r"^([A-Z][a-z]+) publicly claimed that the (.+?) is in the (.+)$")),
]


@dataclass
class World:
    where: dict[str, str | None] = field(default_factory=dict)       # agent -> room
    events: list[tuple[str, str, frozenset]] = field(default_factory=list)  # (object, place, witnesses)
    container_room: dict[str, str] = field(default_factory=dict)
    left_at: dict[str, int] = field(default_factory=dict)             # agent -> step of last exit
    heard: dict[tuple[str, str], str] = field(default_factory=dict)  # (listener, object) -> place
    step: int = 0


def _split_names(text: str) -> list[str]:
    return [n for n in re.split(r", | and ", text) if n]


def _witnesses(world: World, container: str) -> frozenset:
    room = world.container_room.get(container)
    if room is None:  # room stated in the next sentence (ToMi) or implied: the active room
        rooms = {r for r in world.where.values() if r}
        room = next(iter(rooms)) if len(rooms) == 1 else None
    return frozenset(a for a, r in world.where.items() if r is not None and (room is None or r == room))


def simulate(narrative: str) -> World:
    """Replay the narrative sentence by sentence."""
    world = World()
    sentences = [s.strip() for s in re.split(r"(?<=\.)\s+", narrative) if s.strip()]
    for sentence in sentences:
        world.step += 1
        s = sentence.rstrip(".")
        for kind, rule in _RULES:
            m = rule.match(s)
            if not m:
                continue
            if kind == "enter":
                for agent in _split_names(m.group(1)):
                    world.where[agent] = m.group(2)
            elif kind == "exit":
                world.where[m.group(1)] = None
                world.left_at[m.group(1)] = world.step
            elif kind == "place":
                thing, place = m.group(1), m.group(2)
                if place in world.where.values() and thing in [e[1] for e in world.events]:
                    world.container_room[thing] = place  # "The box is in the kitchen."
                else:
                    world.events.append((thing, place, _witnesses(world, place)))
            elif kind == "move":
                world.events.append((m.group(2), m.group(3), _witnesses(world, m.group(3))))
            elif kind in ("tell", "claim"):
                speaker = m.group(1)
                listeners = [m.group(2)] if kind == "tell" else [a for a in world.where if a != speaker]
                obj, place = m.groups()[-2:]
                for listener in listeners:
                    if world.left_at.get(speaker, 0) > world.left_at.get(listener, 0):
                        world.heard[(listener, obj)] = place
            break
    return world


def belief(world: World, obj: str, chain: list[str]) -> str:
    events = [e for e in world.events if e[0] == obj]
    if len(chain) == 1 and (chain[0], obj) in world.heard:
        return world.heard[(chain[0], obj)]
    shared = [e for e in events if set(chain) <= e[2]]
    return (shared or events)[-1 if shared else 0][1]


_QUESTIONS = [
    (re.compile(r"^Where is the (.+?) really\?$"), lambda w, m: [e for e in w.events if e[0] == m.group(1)][-1][1]),
    (re.compile(r"^Where was the (.+?) at the beginning\?$"), lambda w, m: [e for e in w.events if e[0] == m.group(1)][0][1]),
    (re.compile(r"^Where will ([A-Z][a-z]+) look for the (.+?)\?$"), lambda w, m: belief(w, m.group(2), [m.group(1)])),
    (re.compile(r"^Where does ([A-Z][a-z]+) think that ([A-Z][a-z]+) searches for the (.+?)\?$"),
     lambda w, m: belief(w, m.group(3), [m.group(1), m.group(2)])),
    (re.compile(r"^Where does ([A-Z][a-z]+) really think the (.+?) is\?$"), lambda w, m: belief(w, m.group(2), [m.group(1)])),
    (re.compile(r"^Where does ([A-Z][a-z]+) think ((?:[A-Z][a-z]+ thinks )+)the (.+?) is\?$"),
     lambda w, m: belief(w, m.group(3), [m.group(1)] + m.group(2).replace(" thinks", "").split())),
]


def answer(narrative: str, question: str) -> str:
    """The simulator's answer (a container name) to one question about one narrative."""
    world = simulate(narrative)
    for rule, solve in _QUESTIONS:
        m = rule.match(question.strip())
        if m:
            return solve(world, m)
    raise ValueError(f"question form not understood: {question!r}")
