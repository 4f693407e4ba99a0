"""WikiText-2 test perplexity from the local word-level release (``wikitext2/test.txt``).

One doc per article (split at top-level `` = Title = `` headings). The scored text is the
detokenised article; word counts use the original whitespace tokens (the standard word-level
denominator) and byte counts the UTF-8 bytes actually scored.
"""
from __future__ import annotations

import re
from typing import Any

from tom_harness.task_yamls.helpers import TEXT_FIELDS, data_file, to_dataset_dict

_HEADING = re.compile(r"^ = [^=].* = $")


def split_articles(text: str) -> list[str]:
    """Articles of the file, each starting at its top-level heading line."""
    articles: list[list[str]] = []
    for line in text.splitlines():
        if _HEADING.match(line) or not articles:
            articles.append([])
        articles[-1].append(line)
    return ["\n".join(lines).strip("\n") for lines in articles if "".join(lines).strip()]


def detokenize(text: str) -> str:
    """Undo the word-level tokenisation (``@-@``, spaces before punctuation, ``" x "``)."""
    for raw, clean in ((" @-@ ", "-"), (" @,@ ", ","), (" @.@ ", "."), (" n't", "n't"), (" 's", "'s")):
        text = text.replace(raw, clean)
    text = re.sub(r" ([.,;:!?%)\]}])", r"\1", text)
    text = re.sub(r"([(\[{$]) ", r"\1", text)
    text = re.sub(r'" ([^"\n]*?) "', r'"\1"', text)
    text = re.sub(r"^( =+) (.*?) (=+)$", r"\1 \2 \3", text, flags=re.M)
    return text


def load_wikitext2(tomh_file: str = "test.txt", **_: Any):
    raw = data_file("wikitext2", tomh_file).read_text(encoding="utf-8")
    rows = []
    for i, page in enumerate(split_articles(raw)):
        text = detokenize(page)
        rows.append({"story_id": f"wikitext2:{i}", "dataset": "wikitext2", "seed": -1,
                     "page": page, "text": text, "words": len(page.split()),
                     "bytes": len(text.encode("utf-8"))})
    return to_dataset_dict(rows, f"wikitext2/{tomh_file}", TEXT_FIELDS, gold=False)


def process_results(doc: dict, results: list) -> dict[str, tuple[float, int]]:
    (loglikelihood,) = results
    return {"word_perplexity": (loglikelihood, doc["words"]),
            "byte_perplexity": (loglikelihood, doc["bytes"]),
            "bits_per_byte": (loglikelihood, doc["bytes"])}
