"""A recorded stand-in for the model, for dry runs and tests of prompt methods that call it.

Prompt methods make preparatory calls (SimToM's perspective, DWM's world states, ...) whose
answers shape the final prompt. To show or check those prompts without loading a model, the
calls can be answered from a recording: a JSON object mapping a call's input text (or the
sha256 of it) to the answer; a recorded prompt also matches a call whose text contains it (the
same prompt inside the chat template). Calls not in the recording get a canned answer derived from the
text, so a rerun gives the same prompts. ``tom-harness prompts --stub_answers [FILE]``.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Callable

from tom_harness.api.errors import UsageError


def canned(text: str) -> str:
    """The deterministic answer to a call that the recording does not hold."""
    return f"(stub answer {hashlib.sha256(text.encode()).hexdigest()[:8]})"


def load_answers(path: str | Path) -> dict[str, str]:
    """A recording: ``{input text or its sha256: answer}``."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"--stub_answers {path}: not a readable JSON file ({exc})") from None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise UsageError(f"--stub_answers {path}: expected a JSON object of prompt (or sha256) -> answer text")
    return data


class RecordedLM:
    """Answers ``generate_until`` requests from a recording, else with :func:`canned` (or
    ``answer(text)`` when given); chat templating is delegated to ``apply_chat_template``."""

    def __init__(self, answers: dict[str, str] | None = None, answer: Callable[[str], str] | None = None,
                 tokenizer: Any = None, apply_chat_template: Callable[..., str] | None = None) -> None:
        self.answers, self.answer = dict(answers or {}), answer or canned
        self.tokenizer = tokenizer
        if apply_chat_template is not None:
            self.apply_chat_template = apply_chat_template
        #: every call: (input text, generation settings)
        self.seen: list[tuple[str, dict]] = []

    def reply(self, text: str) -> str:
        """The recorded answer to ``text``, its sha256, or to the longest recorded prompt that
        ``text`` contains (a prompt recorded plain still matches inside a chat template)."""
        if text in self.answers:
            return self.answers[text]
        digest = hashlib.sha256(text.encode()).hexdigest()
        if digest in self.answers:
            return self.answers[digest]
        inside = [k for k in self.answers if len(k) > 64 and k in text]
        return self.answers[max(inside, key=len)] if inside else self.answer(text)

    def generate_until(self, requests: list[Any], disable_tqdm: bool = False) -> list[str]:
        self.seen += [(r.arguments[0], dict(r.arguments[1])) for r in requests]
        return [self.reply(r.arguments[0]) for r in requests]
