"""Hi-ToM-style stories: several agents share a room; in turn each either moves the object or
waits, then leaves; afterwards, with deception on, agents may tell others (truthfully or not)
where the object is. Questions of ToM order 0 up to ``max_order``.

Gold by construction from the plan: agents leave in turn order and see everything before they
leave, so a belief chain held by agents a1..ak is the location right after the turn of the
chain member who left first. A claim changes only the listener's own (first-order) belief, and
only if the speaker left the room after the listener (Hi-ToM's trust rule).
"""
from __future__ import annotations

import random

from tom_harness.data.generators.vocab import COLOURS, CONTAINERS, LIKES, NAMES, OBJECTS, ROOMS, THINGS

_ALL_CONTAINERS = tuple(f"{c} {k}" for c in COLOURS for k in CONTAINERS)
LETTERS = "ABCDEFGHIJKLMNO"


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _chain_text(chain: list[str], obj: str) -> str:
    if len(chain) == 1:
        return f"Where does {chain[0]} really think the {obj} is?"
    middle = " ".join(f"{a} thinks" for a in chain[1:])
    return f"Where does {chain[0]} think {middle} the {obj} is?"


def hitom_story(seed: int, index: int, max_order: int = 4, deception: bool = True) -> tuple[str, dict]:
    rng = random.Random(f"hitom:{seed}:{index}:{max_order}:{int(deception)}")
    agents = rng.sample(NAMES, max(max_order, rng.randint(3, 5), 1))
    room, obj = rng.choice(ROOMS), rng.choice(OBJECTS)
    options = rng.sample(_ALL_CONTAINERS, 15)
    used = options[: rng.randint(3, 5)]
    sentences = [f"{_join(agents)} entered the {room}.", f"The {obj} is in the {used[0]}."]
    after_turn: list[str] = []  # location after agent i's turn
    location = used[0]
    for agent in agents:
        if rng.random() < 0.6:
            location = rng.choice([c for c in used if c != location])
            sentences.append(f"{agent} moved the {obj} to the {location}.")
        else:
            sentences.append(f"{agent} made no movements and stayed in the {room} for 1 minute.")
        if rng.random() < 0.3:
            sentences.append(f"{rng.choice(agents)} {rng.choice(LIKES)} {rng.choice(THINGS)}.")
        sentences.append(f"{agent} exited the {room}.")
        after_turn.append(location)
    sentences.append(f"{_join(agents)} entered the waiting room.")
    turn = {a: i for i, a in enumerate(agents)}
    told: dict[str, str] = {}
    if deception and len(agents) > 1:
        for _ in range(rng.randint(1, 2)):
            speaker = rng.choice(agents)
            claim = rng.choice(used)
            if rng.random() < 0.5:
                listener = rng.choice([a for a in agents if a != speaker])
                sentences.append(f"{speaker} privately told {listener} that the {obj} is in the {claim}.")
                listeners = [listener]
            else:
                sentences.append(f"{speaker} publicly claimed that the {obj} is in the {claim}.")
                listeners = [a for a in agents if a != speaker]
            for listener in listeners:
                if turn[speaker] > turn[listener]:
                    told[listener] = claim
    questions = [{"order": 0, "text": f"Where is the {obj} really?", "answer": location}]
    for order in range(1, max_order + 1):
        chain = rng.sample(agents, order) if order <= len(agents) else None
        if chain is None:
            continue
        answer = after_turn[min(turn[a] for a in chain)]
        if order == 1 and chain[0] in told:
            answer = told[chain[0]]
        questions.append({"order": order, "text": _chain_text(chain, obj), "answer": answer})
    choices = ", ".join(f"{LETTERS[i]}. {o.replace(' ', '_')}" for i, o in enumerate(options))
    record = {
        "narrative": " ".join(sentences), "deception": deception, "stroy_length": 1,
        "questions": [{"question": q["text"], "question_order": q["order"], "choices": choices,
                       "answer": q["answer"].replace(" ", "_")} for q in questions],
    }
    return f"gen-hitom-{seed}-{index}", record


def hitom_stories(n: int, seed: int = 0, max_order: int = 4, deception: bool = True) -> dict[str, dict]:
    """``n`` stories in the published Hi-ToM JSON shape; deterministic in all arguments."""
    from tom_harness.api.errors import UsageError

    if n < 1 or max_order < 0:
        raise UsageError(f"need gen_stories >= 1 and gen_max_order >= 0, got {n}, {max_order}")
    return dict(hitom_story(seed, i, max_order, deception) for i in range(n))
