"""ToMi-style stories: agents enter and leave one room while an object is moved between two
containers; distractor sentences; first- and second-order, reality and memory questions.

Gold answers come from the plan: every object event records who witnessed it, and a (possibly
nested) belief is the object's location after the last event that all its holders witnessed.
Story ids and content are a pure function of ``(seed, index)``.
"""
from __future__ import annotations

import random

from tom_harness.data.generators.vocab import CONTAINERS, LIKES, NAMES, OBJECTS, ROOMS, THINGS

_ONE_WORD_CONTAINERS = tuple(c for c in CONTAINERS if " " not in c)
_ONE_WORD_ROOMS = tuple(r for r in ROOMS if " " not in r)


class _Plan:
    """The story as it is built: sentences plus, per object event, location and witnesses."""

    def __init__(self, room: str, obj: str) -> None:
        self.room, self.obj = room, obj
        self.sentences: list[str] = []
        self.present: set[str] = set()
        self.locations: list[str] = []
        self.witnesses: list[frozenset[str]] = []
        self.movers: set[str] = set()

    def enter(self, agent: str) -> None:
        self.present.add(agent)
        self.sentences.append(f"{agent} entered the {self.room}.")

    def exit(self, agent: str) -> None:
        self.present.discard(agent)
        self.sentences.append(f"{agent} exited the {self.room}.")

    def place(self, container: str, mover: str | None = None) -> None:
        if mover is None:
            self.sentences.append(f"The {self.obj} is in the {container}.")
        else:
            self.movers.add(mover)
            self.sentences.append(f"{mover} moved the {self.obj} to the {container}.")
        self.sentences.append(f"The {container} is in the {self.room}.")
        self.locations.append(container)
        self.witnesses.append(frozenset(self.present))

    def belief(self, *holders: str) -> str:
        """Location after the last object event every holder witnessed (first event if none)."""
        seen = [i for i, w in enumerate(self.witnesses) if set(holders) <= w]
        return self.locations[seen[-1] if seen else 0]


def _plan(rng: random.Random) -> tuple[_Plan, list[str], list[str]]:
    agents = rng.sample(NAMES, rng.choice((2, 3, 3)))
    containers = rng.sample(_ONE_WORD_CONTAINERS, 2)
    plan = _Plan(rng.choice(_ONE_WORD_ROOMS), rng.choice(OBJECTS))
    for agent in rng.sample(agents, len(agents)):
        plan.enter(agent)
    plan.place(containers[0])
    moves = 0
    for _ in range(rng.randint(3, 7)):
        kind = rng.choices(("exit", "enter", "move", "distract"), weights=(3, 1.5, 2, 1))[0]
        absent = [a for a in agents if a not in plan.present]
        if kind == "exit" and plan.present:
            plan.exit(rng.choice(sorted(plan.present)))
        elif kind == "enter" and absent:
            plan.enter(rng.choice(absent))
        elif kind == "move" and plan.present and moves < 2:
            other = containers[1] if plan.locations[-1] == containers[0] else containers[0]
            plan.place(other, rng.choice(sorted(plan.present)))
            moves += 1
        elif kind == "distract":
            plan.sentences.append(f"{rng.choice(agents)} {rng.choice(LIKES)} {rng.choice(THINGS)}.")
    if moves == 0:
        if not plan.present:
            plan.enter(rng.choice(agents))
        plan.place(containers[1], rng.choice(sorted(plan.present)))
    return plan, agents, containers


def _question(plan: _Plan, qtype: str, text: str, answer: str, containers: list[str]) -> dict:
    alternative = containers[1] if answer == containers[0] else containers[0]
    return {"question": text, "question_type": qtype, "answer": answer, "containers": containers,
            "alternative container": alternative}


def tomi_story(seed: int, index: int) -> tuple[str, dict]:
    """One story (id, record) in the published ToMi JSON shape."""
    rng = random.Random(f"tomi:{seed}:{index}")
    plan, agents, containers = _plan(rng)
    reality = plan.locations[-1]
    questions = []
    a = rng.choice(agents)
    ans = plan.belief(a)
    tag = "tom" if ans != reality else "no_tom"
    questions.append(_question(plan, f"first_order_{int(a in plan.movers)}_{tag}",
                               f"Where will {a} look for the {plan.obj}?", ans, containers))
    outer, inner = rng.sample(agents, 2)
    ans = plan.belief(outer, inner)
    tag = "tom" if ans != reality else "no_tom"
    questions.append(_question(plan, f"second_order_{int(outer in plan.movers)}_{tag}",
                               f"Where does {outer} think that {inner} searches for the {plan.obj}?",
                               ans, containers))
    questions.append(_question(plan, "reality", f"Where is the {plan.obj} really?", reality, containers))
    questions.append(_question(plan, "memory", f"Where was the {plan.obj} at the beginning?",
                               plan.locations[0], containers))
    false_belief = any(plan.belief(x) != reality for x in agents)
    record = {"narrative": " ".join(plan.sentences),
              "narrative_type": "false_belief" if false_belief else "true_belief",
              "containers": containers, "questions": questions}
    return f"gen-tomi-{seed}-{index}", record


def tomi_stories(n: int, seed: int = 0) -> dict[str, dict]:
    """``n`` stories; the same ``(n, seed)`` always gives the same stories."""
    if n < 1:
        from tom_harness.api.errors import UsageError

        raise UsageError(f"gen_stories must be >= 1, got {n}")
    return dict(tomi_story(seed, i) for i in range(n))
