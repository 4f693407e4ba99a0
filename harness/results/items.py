"""Per-item scores of one cell, kept beside it as ``cells/<iv>/<task>.items.jsonl.gz``.

Written for every cell (lm-eval's samples are always collected; the full samples are only kept
with ``--log_samples``), so paired tests (:mod:`tom_harness.results.stats`) and ``tom-harness compare``
can work from the output directory alone. The file is gzip'd JSON lines:

* line 1, the header: ``{"tom_harness_items": 1, "metrics": {subtask: {metric: {"aggregation":
  name, "higher_is_better": bool}}}}`` (lm-eval's aggregation name, ``custom`` for a function);
* then one record per (subtask, doc, filter, repeat): ``subtask, doc_id, doc_hash, filter,
  repeat, metrics`` (each metric's per-item value exactly as the task's ``process_results``
  returned it, e.g. ``[loglikelihood, words]`` for perplexity), ``target``, ``response`` (the
  filtered response text, the first one under ``--repeats``; ``null`` for log-likelihood tasks)
  and ``answer`` (the parsed answer, see :func:`parsed_answer`); under ``--repeats`` also
  ``counts`` (per 0/1 metric, how many of the N answers scored 1) and ``n_repeats``. The task's
  per-item metrics already hold the mean over repeats, ``<metric>_majority`` and
  ``<metric>_r<k>`` (harness/repeats.py), all kept here. ``repeat`` indexes whole re-evaluations
  written together (:func:`write_items` with a list); readers average those per item.
"""
from __future__ import annotations

import gzip
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from lm_eval.utils import handle_non_serializable

from tom_harness.results.outdir import atomic_write_bytes

SCHEMA = 1
SUFFIX = ".items.jsonl.gz"
_MAX_TEXT = 2000  # characters of response kept per item (the answer is parsed from the full text)


def items_path(cell_path: Path | str) -> Path:
    """``cells/<iv>/<task>.json`` -> ``cells/<iv>/<task>.items.jsonl.gz``."""
    p = Path(cell_path)
    return p.with_name(p.name[: -len(".json")] + SUFFIX if p.name.endswith(".json") else p.name + SUFFIX)


def metric_specs(results: dict) -> dict[str, dict[str, dict[str, Any]]]:
    """Per subtask, each metric's aggregation and direction, from lm-eval's results ``configs``."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for sub, cfg in (results.get("configs") or {}).items():
        hib = (results.get("higher_is_better") or {}).get(sub, {})
        specs = {}
        for m in cfg.get("metric_list") or []:
            agg = m.get("aggregation", "mean")
            name = agg if isinstance(agg, str) and agg.isidentifier() else "custom"
            specs[m["metric"]] = {"aggregation": name, "higher_is_better": bool(hib.get(m["metric"], m.get("higher_is_better", True)))}
        out[sub] = specs
    return out


def _options(doc: dict) -> list[str]:
    for key in ("choices", "containers", "mc_choices"):
        opts = doc.get(key)
        if isinstance(opts, list) and opts and all(isinstance(o, str) for o in opts):
            return opts
    return []


def parsed_answer(doc: dict, response: Any) -> str | None:
    """A comparable answer for agreement statistics (correctness itself comes from the task's
    own scorer). Free text: the tagged answer (or the documented fallback), then, if the doc has
    options, the option letter it names (lettered tasks) or the option(s) it names, else its
    normalised words. Several answers (``--repeats``): the most frequent parsed answer.
    Log-likelihood multiple choice: the highest-scoring choice. None when the task has no answer
    (perplexity)."""
    from tom_harness.task_yamls.helpers import LETTERS, extract, letter_of, mentions, norm_words

    if isinstance(response, str):
        text, _ = extract(response)
        options = _options(doc)
        gold = doc.get("gold_letter", doc.get("gold"))
        if options and isinstance(gold, str) and len(gold) == 1 and gold in LETTERS:
            letter = letter_of(text, options)
            if letter:
                return letter
        named = sorted({o.replace("_", " ") for o in options if mentions(text, o)})
        if named:
            return " | ".join(named)
        return norm_words(text)[:120] or "(empty)"
    if isinstance(response, list) and response and all(isinstance(r, str) for r in response):
        votes = [parsed_answer(doc, r) for r in response]  # --repeats: the most frequent, first on ties
        return max(votes, key=lambda v: (votes.count(v), -votes.index(v)))
    if isinstance(response, list) and len(response) > 1 and all(isinstance(r, (list, tuple)) and r for r in response):
        scores = [float(r[0]) for r in response]
        best = max(range(len(scores)), key=scores.__getitem__)
        choices = doc.get("mc_choices") if isinstance(doc.get("mc_choices"), list) else None
        return str(choices[best]) if choices and best < len(choices) else str(best)
    return None


def _jsonable(value: Any) -> Any:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _target(value: Any) -> Any:
    return _jsonable(value) if value is None or isinstance(value, (str, int, float, list)) else str(value)


def records(samples: dict[str, list[dict]], repeat: int = 0) -> list[dict]:
    """Compact per-item records from lm-eval's samples ``{subtask: [sample, ...]}``."""
    out = []
    for sub, rows in samples.items():
        for s in rows:
            resps = s.get("filtered_resps") or []
            response = resps[0] if len(resps) == 1 else resps
            repeated = isinstance(response, list) and bool(response) and all(isinstance(r, str) for r in response)
            text = response if isinstance(response, str) else response[0] if repeated else None
            out.append({
                "subtask": sub, "doc_id": s.get("doc_id"), "doc_hash": str(s.get("doc_hash", ""))[:16],
                "filter": s.get("filter", "none"), "repeat": repeat,
                "metrics": {m: _jsonable(s.get(m)) for m in s.get("metrics", []) if m in s},
                "target": _target(s.get("target")),
                "response": text[:_MAX_TEXT] if text is not None else None,
                "answer": parsed_answer(s.get("doc") or {}, response),
                **repeat_counts(s),
            })
    return out


def repeat_counts(sample: dict) -> dict[str, Any]:
    """Under ``--repeats``: how many of the N answers scored 1 on each 0/1 metric (``counts``,
    e.g. a scenario's C / D / other counts) and ``n_repeats``; nothing for single answers."""
    per: dict[str, list] = {}
    for key in sample.get("metrics", []):
        base, sep, k = key.rpartition("_r")
        if sep and k.isdigit() and sample.get(key) is not None:
            per.setdefault(base, []).append(sample[key])
    if not per:
        return {}
    counts = {m: int(sum(v)) for m, v in per.items() if all(x in (0, 1, 0.0, 1.0, True, False) for x in v)}
    return {"counts": counts, "n_repeats": max(len(v) for v in per.values())}


def write_items(path: Path, samples: dict[str, list[dict]] | list[dict[str, list[dict]]], results: dict) -> Path:
    """Write the items file atomically (temp file + rename, like cells). ``samples`` is lm-eval's
    samples dict, or a list of them, one per repeat of the evaluation (repeat index = position)."""
    header = {"tom_harness_items": SCHEMA, "metrics": metric_specs(results)}
    runs = samples if isinstance(samples, list) else [samples]
    lines = [header, *(r for i, run in enumerate(runs) for r in records(run, i))]
    text = "".join(json.dumps(r, default=handle_non_serializable, ensure_ascii=False) + "\n" for r in lines)
    atomic_write_bytes(path, gzip.compress(text.encode("utf-8"), mtime=0))
    return path


@dataclass
class Items:
    """The per-item records of one cell."""

    metrics: dict[str, dict[str, dict[str, Any]]]
    rows: list[dict] = field(default_factory=list)
    _memo: dict = field(default_factory=dict, repr=False)

    def subtasks(self) -> list[str]:
        return list(dict.fromkeys(r["subtask"] for r in self.rows))

    def aggregation(self, subtask: str, metric: str) -> str | None:
        """lm-eval's aggregation name; ``<m>_majority`` (added by --repeats, so absent from the
        task's metric list) is aggregated like ``<m>``, which gives it a paired test too."""
        specs = self.metrics.get(subtask) or {}
        spec = specs.get(metric) or (specs.get(metric[: -len("_majority")]) if metric.endswith("_majority") else None)
        return spec["aggregation"] if spec else None

    def values(self, metric: str, filt: str = "none", subtasks: Iterable[str] | None = None) -> dict[tuple[str, int], tuple[str, Any]]:
        """``(subtask, doc_id) -> (doc_hash, value)`` for items that have ``metric``; repeats of
        one item are averaged (element-wise for list values)."""
        memo_key = (metric, filt, tuple(sorted(subtasks)) if subtasks is not None else None)
        if memo_key not in self._memo:
            self._memo[memo_key] = self._values(metric, filt, subtasks)
        return self._memo[memo_key]

    def _values(self, metric: str, filt: str, subtasks: Iterable[str] | None) -> dict[tuple[str, int], tuple[str, Any]]:
        keep = set(subtasks) if subtasks is not None else None
        acc: dict[tuple[str, int], list] = {}
        hashes: dict[tuple[str, int], str] = {}
        for r in self.rows:
            if r.get("filter", "none") != filt or (keep is not None and r["subtask"] not in keep):
                continue
            v = (r.get("metrics") or {}).get(metric)
            if v is None:
                continue
            key = (r["subtask"], int(r["doc_id"]))
            acc.setdefault(key, []).append(v)
            hashes[key] = r.get("doc_hash", "")
        return {k: (hashes[k], _mean_repeats(vs)) for k, vs in acc.items()}

    def answers(self, subtasks: Iterable[str] | None = None) -> dict[tuple[str, int], tuple[str, str]]:
        """``(subtask, doc_id) -> (doc_hash, answer)`` (first record, first filter); under
        ``--repeats`` that record's answer is already the majority of the N (:func:`parsed_answer`)."""
        keep = set(subtasks) if subtasks is not None else None
        out: dict[tuple[str, int], tuple[str, str]] = {}
        for r in self.rows:
            if r.get("answer") is None or (keep is not None and r["subtask"] not in keep):
                continue
            out.setdefault((r["subtask"], int(r["doc_id"])), (r.get("doc_hash", ""), str(r["answer"])))
        return out


def _mean_repeats(values: list) -> Any:
    if len(values) == 1:
        return values[0]
    if all(isinstance(v, (int, float)) for v in values):
        return sum(values) / len(values)
    if all(isinstance(v, list) for v in values) and len({len(v) for v in values}) == 1:
        return [sum(col) / len(col) if all(isinstance(c, (int, float)) for c in col) else col[0] for col in zip(*values)]
    return values[0]


def read_items(path: Path | str) -> Items | None:
    """The items file, or None if absent or unreadable (cells of older runs have none)."""
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            lines = [json.loads(line) for line in f if line.strip()]
    except (FileNotFoundError, OSError, EOFError, ValueError):
        return None
    if not lines or lines[0].get("tom_harness_items") != SCHEMA:
        return None
    return Items(lines[0].get("metrics") or {}, lines[1:])


def items_of(cell: dict) -> Items | None:
    """The items of a cell dict read by :func:`tom_harness.results.outdir.iter_cells` (which records ``_path``)."""
    path = cell.get("_path")
    return read_items(items_path(path)) if path else None
