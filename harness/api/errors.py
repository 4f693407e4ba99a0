"""Errors that carry a user-facing message, and the exit codes the CLI maps them to.

Exit codes (documented in the README, "Errors and exit codes"):

* ``0`` success;
* ``1`` an internal error of tom-harness itself (a bug: rerun with ``--debug`` and report it);
* ``2`` a usage, config, data or plugin error (:class:`UsageError` and its subclasses);
* ``3`` a failed restore check (:class:`RestoreError`): an intervention left the model changed;
  the run stops so no later cell is scored on a contaminated model; finished cells are kept;
* ``130`` interrupted (Ctrl-C); finished cells are kept, rerun to resume.
"""
from __future__ import annotations

import difflib
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Iterable, TextIO

EXIT_OK, EXIT_INTERNAL, EXIT_USAGE, EXIT_RESTORE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class UsageError(Exception):
    """Bad input from the user: unknown name, malformed value, conflicting output dir.

    The CLI prints the message and exits with status 2; nothing already written is touched.
    """

    exit_code = EXIT_USAGE


class DataMissingError(UsageError):
    """A dataset file is missing or corrupt; the message says how to get it."""


class PluginError(UsageError):
    """Plugin (or task) code raised: the message names the plugin and where it failed."""


class NotApplicableError(UsageError):
    """Raised while a cell runs when it cannot be scored here (a replay file without this
    cell's documents, ``missing=skip``): the runner writes an n/a cell with the message."""


class LockedError(UsageError):
    """Another run holds the output directory."""


class RestoreError(RuntimeError):
    """An intervention left the model changed after its cell (weights differ or hooks remain)."""

    exit_code = EXIT_RESTORE


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


def write_traceback(exc: BaseException, folders: Iterable[Path | str]) -> Path | None:
    """Write ``exc``'s traceback (with the command line) to a new file in the first folder that
    takes it; returns the file, or None if none did. A one-off internal error can then be
    reported without rerunning."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    text = (f"command: {' '.join(sys.argv)}\ntime: {time.strftime('%Y-%m-%dT%H:%M:%S%z')}\n"
            f"python: {sys.version.split()[0]}\n\n" + "".join(traceback.format_exception(exc)))
    for folder in folders:
        path = Path(folder) / f"tom_harness_error_{stamp}_{os.getpid()}.txt"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "x", encoding="utf-8") as fh:
                fh.write(text)
        except OSError:
            continue
        return path
    return None


def report_error(exc: BaseException, debug: bool = False, stream: TextIO | None = None,
                 trace_folders: Iterable[Path | str] = ()) -> int:
    """Print one message for ``exc`` (the traceback too when ``debug``); return its exit code.

    Errors that carry an ``exit_code`` (UsageError and subclasses, RestoreError) are expected
    and get a one-line message; anything else is a bug of tom-harness itself (exit 1): its
    traceback is also written to a file in the first of ``trace_folders`` that takes it (the
    command's output directory, else the cache), and the message names that file.
    """
    stream = stream or sys.stderr
    if debug:
        traceback.print_exception(exc, file=stream)
    code = getattr(exc, "exit_code", None)
    if code == EXIT_RESTORE:
        print(f"tom-harness: restore check failed: {exc}\nThe run stopped so no later cell is scored on "
              "a changed model; finished cells are kept.", file=stream)
        return code
    if isinstance(code, int):
        print(f"tom-harness: error: {exc}", file=stream)
        return code
    saved = write_traceback(exc, trace_folders)
    where = (f"its traceback is in {saved}; please report it with that file" if saved else
             "rerun with --debug for the traceback and report it")
    print(f"tom-harness: internal error: {type(exc).__name__}: {exc}\nThis is a bug in tom-harness; {where}.",
          file=stream)
    return EXIT_INTERNAL
