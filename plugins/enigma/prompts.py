"""Prompts the pipeline sends to a model, and the parsers for the answers.

Wording is ours, following the gist of each EnigmaToM stage. The two state queries (Eq. 3) keep
the exact answer format the published Enigma adapters were trained on (``- X is now S.`` or
"None"), because a trained knowledge base only answers well in its training format.
"""
from __future__ import annotations

import re
from difflib import SequenceMatcher

LEAVING_WORDS = ("leave", "left", "leaving", "exit", "exited", "outside", "out", "away", "gone",
                 "absent", "departed")


def indexed(events: list[str]) -> str:
    return "\n".join(f"{i + 1}: {e}" for i, e in enumerate(events))


def rooms_prompt(events: list[str]) -> str:
    return (
        f"Events:\n{indexed(events)}\n\n"
        "List every room or place that people can walk into in these events, one per line as "
        "'- Room'. Leave out containers and objects. Give only the list."
    )


def parse_bullets(text: str) -> list[str]:
    """Items of '- x' / '* x' / '• x' lines, in order, without repeats."""
    out: list[str] = []
    for line in text.splitlines():
        m = re.match(r"^\s*[-*•]\s*(.+?)\s*$", line)
        if m and m.group(1) not in out:
            out.append(m.group(1))
    return out


def parse_rooms(text: str) -> list[str]:
    """Room names of at most two words, lower-cased."""
    rooms = []
    for item in parse_bullets(text):
        name = re.sub(r"^(the|a|an)\s+", "", item.strip(" .*").lower())
        if name and len(name.split()) <= 2 and name not in rooms:
            rooms.append(name)
    return rooms


def event_rooms_prompt(events: list[str], rooms: list[str]) -> str:
    listed = "\n".join(f"- {r}" for r in rooms)
    return (
        f"<Events>\n{indexed(events)}\n\n<Rooms>\n{listed}\n\n"
        "For each event, say in which of the listed rooms it takes place, one line per event as "
        "'N: room'. Use only the listed rooms. If a character leaves without saying where to, "
        "write 'none'. No explanations."
    )


def parse_event_rooms(text: str, n: int, rooms: list[str]) -> list[str | None]:
    """Room of each of ``n`` events; 'none', unknown or missing lines keep the previous room."""
    found: dict[int, str] = {}
    for line in text.splitlines():
        m = re.match(r"^\s*(\d+)\s*[:.)-]\s*(.+?)\s*$", line)
        if m:
            found[int(m.group(1))] = m.group(2).strip(" .").lower()
    out: list[str | None] = []
    prev: str | None = rooms[0] if rooms else None
    for i in range(1, n + 1):
        room = match_room(found.get(i, ""), rooms)
        prev = room or prev
        out.append(prev)
    return out


def match_room(text: str, rooms: list[str], threshold: float = 0.8) -> str | None:
    """The listed room ``text`` names: exact, contained, or fuzzy (ratio >= threshold)."""
    text = text.lower().replace("_", " ").strip()
    text = re.sub(r"^(?:(?:is|are|now|in|at|inside|into|to|the|a|an)\s+)+", "", text)
    if not text:
        return None
    for r in rooms:
        if r == text or re.search(rf"\b{re.escape(r)}\b", text):
            return r
    best, score = None, 0.0
    for r in rooms:
        for tok in [text, text.replace(" ", ""), *text.split()]:
            s = SequenceMatcher(None, r, tok).ratio()
            if s > score:
                best, score = r, s
    return best if score >= threshold else None


def entities_prompt(events: list[str], questions: list[str], attributes: bool) -> str:
    qs = "\n".join(f'"{q}"' for q in questions)
    if attributes:
        what = ("Name at most five attributes of entities that the questions ask about, each as "
                "'attribute of entity' (for example 'location of tie', 'color of crate'). At "
                "least one must concern an entity that is not a person.")
    else:
        what = ("Name at most five entities mentioned in the questions. At least one must not be "
                "a person. Do not include times.")
    return (
        f"<Events>\n{indexed(events)}\n\n<Questions>\n{qs}\n\n{what} Think briefly, then give "
        "the list as:\n<entities>\n- entity 1\n- entity 2\n</entities>"
    )


def parse_entities(text: str, characters: list[str], faithful: bool) -> list[str]:
    """Entities from the model's <entities> block.

    Faithful: delete every '-' (t-shirt -> tshirt) and de-duplicate through a set (the original
    order was arbitrary; sorted here so runs agree). Fixed: keep hyphens and the model's order.
    """
    _, tag, rest = text.partition("<entities>")
    body = rest if tag else text
    out: list[str] = []
    for item in parse_bullets(body.split("</entities>")[0]):
        e = item.replace("-", "") if faithful else item
        e = e.split("(")[0].strip().lower()
        e = re.sub(r"^the\s+", "", e).replace("_", " ").strip(" .")
        if e and not any(e in c.lower() for c in characters) and e not in out:
            out.append(e)
    return sorted(set(out)) if faithful else out


def state_prompt(context: str, entity: str, attributes: bool, location_query: bool = False) -> str:
    """Eq. 3 query in the Enigma adapters' training format.

    ``location_query``: the character-location query exactly as the original's scene-graph code
    sent it to the trained adapters (``generate_scene_graph.py``): ``:`` removed from the
    entity, a stray ")" before "If", and the name lower-cased by ``str.capitalize`` in the
    format line ("- Location of isabella is now ..."); used in faithful mode."""
    if attributes:
        if location_query:
            entity = entity.replace(":", "").strip()
        shown = entity.capitalize() if location_query else entity[:1].upper() + entity[1:]
        return (
            f'Event:\n{context}\n\nNow, what happens to the "{entity}"? {")" if location_query else ""}'
            f"If the {entity} undergoes changes, elicit the new state as bullet points in the "
            f"following format:\n- {shown} is now [current state].\n\n"
            'Otherwise, simply respond with "None".'
        )
    return (
        f'Event:\n{context}\n\nNow, what happens to "{entity}"? If "{entity}" undergoes state '
        "changes, list them as bullet points in the following format:\n"
        f"- {entity[:1].upper() + entity[1:]} is now [new state].\n\n"
        'Otherwise, simply respond with "None".'
    )


def parse_state(text: str) -> list[list[str]]:
    """Triples ``[x, y, state]`` from '- Y of X is now S' lines ([] for 'None')."""
    text = re.sub(r"<\|start_header_id\|>.*?<\|end_header_id\|>", "", text).strip()
    if "None" in " ".join(text.split()[:5]):
        return []
    triples: list[list[str]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith(("-", "*", "•")):
            continue
        line = line.lstrip("-*• ").rstrip(" .")
        for verb in (" is now ", " are now "):
            if verb in line:
                lhs, state = line.rsplit(verb, 1)
                break
        else:
            continue
        for lead in ("so ", "therefore "):
            if lead in lhs.lower():
                lhs = lhs[lhs.lower().rindex(lead) + len(lead):]
        if " of " in lhs:
            first, rest = lhs.split(" of ", 1)
            triples.append([rest.strip(), first.strip(), state.strip()])
        else:
            triples.append(["", lhs.strip(), state.strip()])
    return triples


def location_entity(character: str, dialogue: bool) -> str:
    return f"engagement in the dialogue of {character}" if dialogue else f"location of {character}"


def is_leaving(state: str, faithful: bool) -> bool:
    """Whether a reported state says someone left. Faithful: substring test ('about' hits 'out')."""
    s = state.lower()
    if faithful:
        return any(w in s for w in LEAVING_WORDS)
    return any(re.search(rf"\b{w}\b", s) for w in LEAVING_WORDS)


REDUCE_EXAMPLES = (
    ("Where does Anna think that Ben searches for the apple?", "Where will Ben search for the apple?"),
    ("Where will Carl look for the hat?", "Where will Carl look for the hat at the end of the story?"),
    ("Where does Dora think Eli thinks Fay thinks the pear is?", "Where is the pear at the end of the story?"),
    ("Where is the lime really?", "Where is the lime at the end of the story?"),
)


def reduce_prompt(question: str) -> list[dict]:
    """Chat turns asking the model to rewrite a higher-order question as a factual one."""
    instr = ("Rewrite the theory-of-mind question as an ordinary question about the events, "
             "ending with 'at the end of the story' where it fits. Reply as 'Answer: <question>'."
             "\n\nQuestion: ")
    turns: list[dict] = []
    for q, a in REDUCE_EXAMPLES:
        turns += [{"role": "user", "content": instr + q}, {"role": "assistant", "content": f"Answer: {a}"}]
    return turns + [{"role": "user", "content": instr + question}]


def parse_reduced(text: str, fallback: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    out = line.split(":")[-1].strip()
    return out if out.endswith("?") and len(out) > 8 else fallback
