"""The belief chain of a question: which of a story's characters it asks about, outer first.

"Where does Anne think that Bob will look for the ball?" has the chain [Anne, Bob]: Anne's belief
about Bob's belief. EnigmaToM masks the events by the chain; SimToM, PercepToM and TimeToM take
the perspective of its first character, so the rule lives here, once.
"""
from __future__ import annotations


def belief_chain(question: str, characters: list[str], faithful: bool) -> list[str]:
    """Characters named in the question, in order of first mention (outer believer first).

    Faithful (EnigmaToM's original code): the tokens of the whole question, ``lower()`` with every
    ",", "." and "'s" deleted. Fixed: the question's last line only (FANToM's "Information: <fact>"
    line names people who are not believers), tokens stripped of punctuation."""
    if faithful:
        toks = [t.lower().replace(",", "").replace(".", "").replace("'s", "") for t in question.split()]
    else:
        toks = []
        for tok in question.strip().splitlines()[-1].lower().split() if question.strip() else []:
            tok = tok.strip(",.?!;:\"'()")
            toks.append(tok[:-2] if tok.endswith("'s") else tok)
    found = [(toks.index(c.lower()), c) for c in characters if c.lower() in toks]
    return [c for _, c in sorted(found, key=lambda x: x[0])]
