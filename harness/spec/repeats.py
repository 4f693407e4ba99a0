"""Repeats with sampling: every generation request asked N times, scored per repeat by the task.

How it maps onto lm-eval 0.4.13 (``evaluator.evaluate`` and ``api/task.py``):

* A task's ``repeats`` (TaskConfig) makes each ``Instance`` carry ``repeats=N``; the evaluator
  sends every request N times in one ``generate_until`` call and collects the N answers in
  ``instance.resps``. That part is used as is (:func:`add_repeats` sets ``repeats`` on every
  ``generate_until`` task; loglikelihood tasks are deterministic and keep one pass).
* lm-eval's filters then reduce the N answers *before* ``process_results``: the default ``none``
  filter is ``take_first`` (only the first answer is scored), and ``majority_vote`` votes on the
  raw strings before the task's own answer parser runs (CoT outputs never coincide verbatim).
  So each filter pipeline is replaced by :class:`RepeatEnsemble` under the same name: it runs
  the task's pipeline on each answer separately and keeps all N results, and the task's
  ``process_results`` is wrapped to score each of them with the task's own scorer.
* Per item the wrapped scorer reports the mean over repeats under the metric's own name (so the
  headline, stderr and group aggregation stay lm-eval's), ``<metric>_majority`` (the value most
  repeats got; a tie counts as the lower value, so for 0/1 scores an item is correct when more
  than half of its repeats are) and ``<metric>_r<k>`` per repeat. After the run,
  :func:`summarise` turns the per-repeat means into ``<metric>_repeat_std`` (sample std across
  repeats) and drops the ``_r<k>`` entries from the results (they stay in the samples).
* A repeat the task scored ``None`` (no recorded answer: ``--model replay`` with ``missing=short``)
  is left out of that item's mean, majority and ``_r<k>`` keys.
* Only metrics aggregated by ``mean`` are combined; another aggregation (corpus F1, perplexity)
  keeps the first repeat's value, as lm-eval's ``take_first`` would.

Seeding: lm-eval seeds torch once per ``simple_evaluate`` (the runner passes ``--seed``, once per
cell); the wrapper also reseeds torch right before each sampled ``generate_until`` call, so a
cell's samples depend on (seed, prompts, batch size) only, not on what ran before it.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any, Callable

from lm_eval.api.filter import FilterEnsemble

_REPEAT_KEY = re.compile(r"^(?P<metric>.+)_r(?P<k>\d+),(?P<filter>.*)$")


class Repeated(list):
    """The N filtered answers of one request (marks what the wrapped scorer must split)."""


class RepeatEnsemble(FilterEnsemble):
    """A task's filter pipeline run on each repeat's answer separately, all N results kept."""

    def __init__(self, inner: FilterEnsemble, n: int) -> None:
        super().__init__(name=inner.name, filters=list(inner.filters))
        self.n = n

    def apply(self, instances: list) -> None:
        docs = [inst.doc for inst in instances]
        per_repeat = []
        for k in range(self.n):
            resps: Any = [[inst.resps[k]] for inst in instances]
            for f in self.filters:
                resps = f().apply(resps, docs)
            per_repeat.append(list(resps))
        for i, inst in enumerate(instances):
            inst.filtered_resps[self.name] = Repeated(rep[i] for rep in per_repeat)


def majority(values: list[float]) -> float:
    """The value most repeats got; ties go to the lower value."""
    counts = Counter(values)
    top = max(counts.values())
    return min(v for v, c in counts.items() if c == top)


def _is_mean(fn: Callable) -> bool:
    from lm_eval.api.metrics import mean

    return fn is mean or getattr(fn, "__name__", "") == "mean"


def _scorer(task: Any, n: int) -> Callable:
    original = task.process_results

    def process_results(doc: dict, results: list) -> dict:
        if not results or not isinstance(results[0], Repeated):
            return original(doc, results)
        per = [original(doc, [r[k] for r in results]) for k in range(n)]
        out: dict[str, Any] = dict(per[0])
        for metric in per[0]:
            values = [p.get(metric) for p in per]
            present = [v for v in values if v is not None]  # None: no answer recorded (replay, missing=short)
            if not present or not _combinable(task, metric, present):
                continue
            floats = [float(v) for v in present]
            out[metric] = sum(floats) / len(floats)
            out[f"{metric}_majority"] = majority(floats)
            for k, v in enumerate(values):
                if v is not None:
                    out[f"{metric}_r{k}"] = float(v)
        return out

    return process_results


def _combinable(task: Any, metric: str, values: list) -> bool:
    agg = task.aggregation().get(metric)
    numeric = all(isinstance(v, (int, float)) for v in values)
    return agg is not None and _is_mean(agg) and numeric


def add_repeats(task: Any, n: int) -> bool:
    """Make a loaded lm-eval task ask each generation request ``n`` times; True if it did."""
    if n <= 1 or task.get_config("output_type") != "generate_until":
        return False
    task.set_config(key="repeats", value=n)
    task._filters = [RepeatEnsemble(f, n) for f in task._filters]
    task.process_results = _scorer(task, n)
    agg, hib = task.aggregation(), task.higher_is_better()
    for metric in [m for m, fn in list(agg.items()) if _is_mean(fn)]:
        for extra in [f"{metric}_majority"] + [f"{metric}_r{k}" for k in range(n)]:
            agg[extra] = agg[metric]
            hib[extra] = hib.get(metric, True)
    return True


class RepeatingTaskManager:
    """A TaskManager whose ``load`` hands back tasks with repeats (everything else is the inner one)."""

    def __init__(self, inner: Any, n: int) -> None:
        self.inner, self.n = inner, n
        self.repeated: list[str] = []

    def load(self, *args: Any, **kwargs: Any) -> dict:
        loaded = self.inner.load(*args, **kwargs)
        for name, task in loaded["tasks"].items():
            if add_repeats(task, self.n):
                self.repeated.append(name)
        return loaded

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def summarise(results: dict, n: int) -> None:
    """Per-repeat means -> ``<metric>_repeat_std``; drop the ``_r<k>`` keys (they stay in samples)."""
    for section in ("results", "groups"):
        for entry in (results.get(section) or {}).values():
            per: dict[tuple[str, str], dict[int, float]] = {}
            for key in [k for k in entry if _REPEAT_KEY.match(k)]:
                m = _REPEAT_KEY.match(key)
                value = entry.pop(key)
                if "_stderr" in m["metric"]:
                    continue
                per.setdefault((m["metric"], m["filter"]), {})[int(m["k"])] = value
            for key in [k for k in entry if re.match(r"^.+_r\d+_stderr,", k)]:
                entry.pop(key)
            for (metric, filt), by_k in per.items():
                vals = [v for _, v in sorted(by_k.items()) if isinstance(v, (int, float))]
                if len(vals) > 1:
                    mu = sum(vals) / len(vals)
                    entry[f"{metric}_repeat_std,{filt}"] = math.sqrt(sum((v - mu) ** 2 for v in vals) / (len(vals) - 1))
