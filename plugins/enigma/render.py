"""Rendering the masked, injected events as the narrative the model reads (text or markdown).

Layouts follow the original's ``__build_text_states`` / ``__build_markdown_states``: events in
story order, each followed by its injected states, events separated by blank lines (markdown:
``- event`` with tab-indented ``- state`` children), the header naming the outer believer, and
the whole text stripped, so an empty view is the header alone.
"""
from __future__ import annotations

from tom_harness.task_yamls.helpers import perspective_sentence

from .injection import Triple, state_sentence


def event_text(text: str, dialogue: bool, faithful: bool, last: bool = False) -> str:
    """An event as a line.

    The original appended "." to every dialogue line after appending a space to the whole
    narrative, so lines end in ".." / "!." and the story's last line in " ."; fixed: a full stop
    only for lines without final punctuation. An empty utterance ("Max: ", its space kept in
    the data) becomes "Max: ." in both modes, as in the original."""
    text = text.strip()
    if dialogue and text.endswith(":"):
        text += " "  # the space after the speaker tag, which the event splitter stripped
    if dialogue and faithful:
        return (text + (" ." if last else ".")).strip()
    if dialogue and not text.endswith((".", "!", "?", '"', "'")):
        return text + "."
    return text


def render(indices: list[int], texts: list[str], injected: list[list[Triple]] | None,
           fmt: str, dialogue: bool, faithful: bool) -> str:
    """Events in story order, each followed by its injected states."""
    blocks: list[str] = []
    for i in sorted(indices):
        line = event_text(texts[i], dialogue, faithful, last=i == len(texts) - 1)
        triples = injected[i] if injected else []
        if fmt == "markdown":
            states = [state_sentence(t, capitalize=not faithful) for t in triples]
            blocks.append("\n".join([f"- {line}"] + [f"\t- {s}" for s in states]))
        else:
            blocks.append(" ".join([line] + [state_sentence(t) + "." for t in triples]))
    return ("\n\n" if fmt == "text" or faithful else "\n").join(blocks)


def header(chain: list[str], faithful: bool, fmt: str = "text") -> str:
    """'The following events are known to X' (the original named only the outer believer)."""
    if not chain:
        return ""
    names = chain[0] if faithful else _join(chain)
    bullet = "- " if fmt == "markdown" and faithful else ""
    return f"{bullet}The following events are known to {names}\n\n"


def framed(body: str, chain: list[str], faithful: bool, fmt: str = "text") -> str:
    """Header + events, stripped as the original did: no events leaves the header alone."""
    return (header(chain, faithful, fmt) + body).strip()


def depicts(chain: list[str], faithful: bool) -> str:
    """The closing sentence, read from the original's masking template (its text is data)."""
    return perspective_sentence(perspective(chain, faithful))


def perspective(chain: list[str], faithful: bool) -> str:
    if not chain:
        return "omniscent-perspective" if faithful else "an omniscient perspective"
    return f"{chain[-1].capitalize()}'s perspective"


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
