"""A quiet terminal: one progress line over the cells, lm-eval's repeated notes summarised once.

A matrix runs lm-eval once per cell, and lm-eval repeats the same progress bars and warnings every
time: per-request bars, "Metrics were not scored on the same number of documents" on every group,
"generation_kwargs specified through cli" on every generation task, notes about a model object
passed in, chat templates, git hashes. Without ``--verbose`` (:func:`setup_terminal`):

* lm-eval's per-request and per-document bars and transformers' loading bars are off; the runner's
  one bar over the cells shows the row, the task and the requests answered so far;
* each warning in :data:`KNOWN` is counted instead of printed, and :func:`summary` gives one line
  per kind at the end of the run; notes about what the harness itself does (:data:`SILENT`: a
  model object passed in, data options, git hashes) are dropped;
* everything else is printed as before.

``--verbose`` (or ``setup_terminal(True)``) shows everything.
"""
from __future__ import annotations

import logging
from collections import Counter

#: message fragment -> why the harness can leave it out
KNOWN: dict[str, str] = {
    "Metrics were not scored on the same number of documents": "a group's subtasks differ in size "
    "under --limit; group means are unweighted (weight_by_size: false)",
    "generation_kwargs specified through cli": "--gen_kwargs overrides the task's own; the cell records them",
    "chat template": "the harness warns once per run when a chat template is unused",
    "Overwriting default num_fewshot": "the matrix spec records num_fewshot",
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
        for fragment in KNOWN:
            if fragment in message:
                _counts[fragment] += 1
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
    if verbose:
        return
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:  # pragma: no cover
        pass
    try:
        import datasets

        datasets.disable_progress_bars()
    except (ImportError, AttributeError):  # pragma: no cover
        pass
    _silence_document_bar()


def _silence_document_bar() -> None:
    """lm-eval's per-document bar while building requests has no off switch: give its module a
    tqdm that is off unless verbose."""
    import functools

    import lm_eval.api.task as task_mod
    from tqdm import tqdm

    if not getattr(task_mod.tqdm, "_tom_harness_quiet", False):
        quiet = functools.partial(_maybe_tqdm, tqdm)
        quiet._tom_harness_quiet = True  # type: ignore[attr-defined]
        task_mod.tqdm = quiet


def _maybe_tqdm(tqdm_cls, *args, **kwargs):
    kwargs.setdefault("disable", not _state["verbose"])
    return tqdm_cls(*args, **kwargs)


def quiet() -> bool:
    """True unless verbose: lm-eval's per-request bars are off (``disable_tqdm``)."""
    return not _state["verbose"]


def summary() -> list[str]:
    """One line per kind of warning left out since the last call (and forget them)."""
    lines = [f"lm-eval said {n}x: '{frag}...' ({KNOWN[frag]}; --verbose shows each)" for frag, n in _counts.items()]
    _counts.clear()
    return lines
