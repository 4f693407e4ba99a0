"""A quiet terminal: one progress line over the cells, lm-eval's repeated notes summarised once.

A matrix runs lm-eval once per cell, and lm-eval repeats the same progress bars and warnings every
time: per-request bars, "Metrics were not scored on the same number of documents" on every task
with per-type metrics,
"generation_kwargs ... specified through cli" on every generation task, notes about a model object
passed in, chat templates, git hashes. Without ``--verbose`` (:func:`setup_terminal`):

* the harness owns the terminal: every tqdm bar is off except the runner's one bar over the cells
  (made by :func:`bar`; it shows the row, the task and the requests answered so far, and is off
  too under ``--no_progress``). Libraries do not all offer a switch (transformers' GGUF
  de-quantizing bar, lm-eval's per-document bar, HF ``loglikelihood_rolling``, which asks for its
  request bar with ``disable_tqdm=False`` hard-coded), so the gate sits in tqdm itself;
* each warning in :data:`KNOWN` is counted instead of printed, and :func:`summary` gives one line
  per kind at the end of the run; notes about what the harness itself does (:data:`SILENT`: a
  model object passed in, data options, git hashes) are dropped;
* everything else is printed as before.

``--verbose`` (or ``setup_terminal(True)``) shows everything.
"""
from __future__ import annotations

import functools
import io
import logging
import re
import threading
from collections import Counter
from typing import Any, Iterable

#: message pattern (a regular expression, searched) -> why the harness can leave it out
KNOWN: dict[str, str] = {
    "Metrics were not scored on the same number of documents": "the task scores its per-type metrics "
    "(e.g. acc_first_order) only on items of that type, so its metrics have different item counts; "
    "each metric is the mean over its own items, and the table's n is that count",
    "generation_kwargs.* specified through cli": "--gen_kwargs overrides the task's own; the cell records them",
    "chat template": "the harness warns once per run when a chat template is unused",
    "Overwriting default num_fewshot": "the matrix spec records num_fewshot",
    "no values found for metric": "a group metric none of its subtasks produced (under --limit some "
    "question types are not reached); the cell lists the metrics it has",
    r"metric '.*' is missing in \d+/\d+ tasks": "a per-type metric some seed files of a group did not "
    "produce (under --limit their first items miss that question type); the group value is the mean over "
    "the files that have it, and the table's n counts their items",
}
#: notes about what the harness itself does: dropped without a summary
SILENT = (
    "`pretrained` model kwarg is not of type `str`",  # the harness loads the model once, hands it over
    "Passed an already-initialized model through `pretrained`",
    "Using pre-initialized model",
    "Custom kwargs can be passed",  # data options come from --data_dir, not --metadata
    "git hash", "git repository",  # the cell records versions
    "Building contexts for",  # progress of request building: the cell bar shows progress
)
_state = {"verbose": True}
_counts: Counter = Counter()
_PATTERNS = {key: re.compile(key) for key in KNOWN}
_WHERE = re.compile(r"^\[([^\]]+)\]|Group '([^']+)'")  # lm-eval names the task or group first
_sources: dict[str, dict[str, None]] = {}  # fragment -> task/group names it was said for, in order
MAX_NAMED = 4
_own = threading.local()  # set while :func:`bar` builds the harness's own bar


class KnownNoise(logging.Filter):
    """Drops (and counts) the records of :data:`KNOWN`; lets everything else through."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _state["verbose"] or not record.name.startswith(("lm_eval", "lm-eval")):
            return True
        if getattr(record, "_tom_harness_dropped", False):  # seen by another handler already
            return False
        message = record.getMessage()
        if any(fragment in message for fragment in SILENT):
            return False
        for fragment, pattern in _PATTERNS.items():
            if pattern.search(message):
                _counts[fragment] += 1
                where = _WHERE.search(message)
                if where:
                    _sources.setdefault(fragment, {})[where.group(1) or where.group(2)] = None
                record._tom_harness_dropped = True
                return False
        return True


_FILTER = KnownNoise()


def setup_terminal(verbose: bool) -> None:
    """Quiet (default) or show everything (``--verbose``); safe to call more than once."""
    _state["verbose"] = bool(verbose)
    for handler in logging.getLogger().handlers:
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)
    _gate_bars()


class _Sink(io.TextIOBase):
    """Where quiet bars print: nowhere."""

    def write(self, text: str) -> int:
        return len(text)


_SINK = _Sink()


def _gate_bars() -> None:
    """Wrap ``tqdm.__init__`` (once) so that, unless verbose, every bar not made by :func:`bar` is
    built disabled. A disabled bar still iterates; it only prints nothing."""
    from tqdm import std

    if getattr(std.tqdm.__init__, "_tom_harness_gate", False):
        return
    original = std.tqdm.__init__

    @functools.wraps(original)
    def gated(self, *args: Any, **kwargs: Any) -> None:
        if not _state["verbose"] and not getattr(_own, "active", False):
            # Silenced by writing into a sink, not by ``disable``: a disabled bar reports 0 s
            # elapsed, and vLLM's generate divides by a bar's elapsed time (ZeroDivisionError in
            # quiet ``--model vllm`` runs). A bar its caller disabled stays disabled.
            chosen = args[10] if len(args) > 10 else kwargs.get("disable", False)
            if not chosen:
                if len(args) > 4:  # ``file`` is tqdm's 5th positional parameter
                    args = args[:4] + (_SINK,) + args[5:]
                else:
                    kwargs["file"] = _SINK
        original(self, *args, **kwargs)

    gated._tom_harness_gate = True  # type: ignore[attr-defined]
    std.tqdm.__init__ = gated


def bar(iterable: Iterable, *, enabled: bool, **kwargs: Any):
    """The harness's one bar (over the cells): shown when ``enabled``, even in quiet mode."""
    from tqdm.auto import tqdm

    _own.active = True
    try:
        return tqdm(iterable, disable=not enabled, **kwargs)
    finally:
        _own.active = False


def quiet() -> bool:
    """True unless verbose: lm-eval's per-request bars are off (``disable_tqdm``)."""
    return not _state["verbose"]


def summary() -> list[str]:
    """One line per kind of warning left out since the last call (and forget them)."""
    lines = [f"lm-eval said {n}x{_named(frag)}: '{_readable(frag)}...' ({KNOWN[frag]}; "
             "--verbose shows each)" for frag, n in _counts.items()]
    _counts.clear()
    _sources.clear()
    return lines


def _readable(fragment: str) -> str:
    """A KNOWN pattern as text: ``.*`` -> `` ...``, ``\\d+`` -> ``N``."""
    return fragment.replace(".*", " ...").replace("\\d+", "N")


def _named(fragment: str) -> str:
    """`` for tomi_seed12, tomi_seed42 (+3 more)``: the tasks or groups a warning was about."""
    names = list(_sources.get(fragment, {}))
    if not names:
        return ""
    more = f" (+{len(names) - MAX_NAMED} more)" if len(names) > MAX_NAMED else ""
    return " for " + ", ".join(names[:MAX_NAMED]) + more
