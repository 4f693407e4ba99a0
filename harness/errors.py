"""Errors that carry a user-facing message; the CLI turns them into exit code 2."""
from __future__ import annotations

import difflib
from typing import Iterable


class UsageError(Exception):
    """Bad input from the user: unknown name, malformed value, conflicting output dir.

    The CLI prints the message and exits with status 2; nothing already written is touched.
    """


class DataMissingError(UsageError):
    """A dataset file is missing or corrupt; the message says how to get it."""


class RestoreError(RuntimeError):
    """An intervention left the model changed after its cell (weights differ or hooks remain)."""


def closest(name: str, valid: Iterable[str], n: int = 3) -> list[str]:
    """The valid names closest to ``name``, best first (for 'did you mean' hints)."""
    valid = sorted(set(valid))
    hits = difflib.get_close_matches(name, valid, n=n, cutoff=0.5)
    if not hits:
        hits = [v for v in valid if name.lower() in v.lower() or v.lower() in name.lower()][:n]
    return hits


def unknown(kind: str, name: str, valid: Iterable[str]) -> UsageError:
    """A UsageError for an unknown ``kind`` named ``name``, suggesting the closest valid ones."""
    valid = list(valid)
    hint = closest(name, valid)
    msg = f"unknown {kind} {name!r}"
    if hint:
        msg += f"; did you mean: {', '.join(hint)}?"
    elif valid:
        shown = sorted(valid)[:12]
        msg += f"; valid: {', '.join(shown)}" + (" ..." if len(valid) > 12 else "")
    return UsageError(msg)
