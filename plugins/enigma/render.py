"""Rendering the masked, injected events as the narrative the model reads (text or markdown)."""
from __future__ import annotations

from .injection import Triple, state_sentence


def event_text(text: str, dialogue: bool, faithful: bool) -> str:
    """An event as a line. The original appended '.' to every dialogue line ('Take care!.');
    fixed: only to lines without final punctuation."""
    text = text.strip()
    if dialogue and (faithful or not text.endswith((".", "!", "?", '"', "'"))):
        return text + "."
    return text


def render(indices: list[int], texts: list[str], injected: list[list[Triple]] | None,
           fmt: str, dialogue: bool, faithful: bool) -> str:
    """Events in story order, each followed by its injected states."""
    blocks: list[str] = []
    for i in sorted(indices):
        line = event_text(texts[i], dialogue, faithful)
        states = [state_sentence(t) for t in (injected[i] if injected else [])]
        if fmt == "markdown":
            blocks.append("\n".join([f"- {line}"] + [f"\t- {s}" for s in states]))
        else:
            blocks.append(" ".join([line] + [s + "." for s in states]))
    return ("\n" if fmt == "markdown" else "\n\n").join(blocks)


def header(chain: list[str], faithful: bool) -> str:
    """'The following events are known to X' (the original named only the outer believer)."""
    if not chain:
        return ""
    names = chain[0] if faithful else _join(chain)
    return f"The following events are known to {names}\n\n"


def perspective(chain: list[str], faithful: bool) -> str:
    if not chain:
        return "omniscent-perspective" if faithful else "an omniscient perspective"
    return f"{chain[-1].capitalize()}'s perspective"


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
