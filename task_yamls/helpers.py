"""The public helpers for task authors: data loading, the strict answer parsers, scoring and
seed-group statistics (docs/tasks.md lists each with its signature).

Every benchmark folder's ``utils.py`` imports from here (``tom_harness.task_yamls.helpers``), so it
works under plain ``lm_eval --include_path task_yamls`` as long as tom-harness is installed. The
answer parsers live in :mod:`tom_harness.task_yamls.answers` (the free-text yes/no judge in
:mod:`tom_harness.task_yamls.yesno_judge`) and are re-exported here, so one import serves. Data files are found through ``tom_harness.data_file`` (the data roots, then the
task folder's own ``data/``), never relative to the process CWD.
"""
from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any, Iterable

from tom_harness import data_file
from tom_harness.api import STORY_FIELDS, TEXT_FIELDS, DataMissingError, Field, UsageError, validate
from . import TASK_DIR
from .answers import (
    LETTERS, after_lead_in, answer_blocks, choose_option, completion_hedged, completion_word, extract,
    fallback_answer, letter_of, mentions, name_list, named_options, norm_words, one_container, yes_no,
)
from .yesno_judge import Verdict, judge_yes_no
from .paper_prompts import (  # EnigmaToM's own prompts, from its templates (the *_paper tasks, faithful modes)
    PAPER_DATASETS, choices_block, eval_config, eval_template, family, fill, free_form_question, lettered,
    method_template, perspective_sentence, user, vanilla_prompt,
)

__all__ = [
    "LETTERS", "SEEDS", "STORY_FIELDS", "TASK_DIR", "TEXT_FIELDS", "Field", "after_lead_in", "answer_blocks",
    "as_int", "choose_option", "completion_hedged", "completion_word", "data_file", "extract", "fallback_answer",
    "letter_of", "lettered", "mc_scores", "mean_or_nan", "mentions", "name_list", "named_options", "norm_words",
    "one_container", "read_json", "seed_summary", "to_dataset_dict", "yes_no", "Verdict", "judge_yes_no",
    # EnigmaToM's prompts (paper_prompts.py)
    "PAPER_DATASETS", "choices_block", "eval_config", "eval_template", "family", "fill", "free_form_question",
    "method_template", "perspective_sentence", "user", "vanilla_prompt",
]

SEEDS = (12, 42, 96, 2012, 2024)

# ---------------------------------------------------------------------------------------------
# data


def read_json(dataset: str, relpath: str, task_dir: str | Path | None = None) -> Any:
    """Parse ``<data root>/<dataset>/<relpath>`` (``task_dir``: also the task folder's own data,
    see :mod:`tom_harness.data.roots`); a missing or unreadable file names the fix."""
    path = data_file(dataset, relpath, task_dir)
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataMissingError(
            f"corrupt data file {path} ({exc.__class__.__name__}: {exc}). Re-download it with "
            f"`tom-harness data fetch {dataset}` (it checks the pinned sha256)."
        ) from exc


def to_dataset_dict(rows: list[dict], source: str = "the task's data", fields: tuple[Field, ...] = STORY_FIELDS,
                    gold: bool = True) -> Any:
    """Rows -> ``DatasetDict({"test": ...})``, the shape lm-eval expects from ``custom_dataset``,
    after checking them against the doc contract (``source`` names the file in errors)."""
    import datasets

    validate(rows, source, fields, gold)
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(rows)})


def as_int(value: Any, key: str) -> int:
    """Task parameters arrive from YAML or ``--metadata`` JSON; accept ints and int strings."""
    try:
        return int(value)
    except (TypeError, ValueError):
        raise UsageError(f"task parameter {key!r} must be an integer, got {value!r}") from None


# ---------------------------------------------------------------------------------------------
# prompts: ``lettered`` and EnigmaToM's templates live in paper_prompts.py (imported above)


# ---------------------------------------------------------------------------------------------
# aggregation


def mean_or_nan(items: Iterable[float]) -> float:
    """The mean of ``items``, NaN when there are none (an empty subset scores no number)."""
    items = list(items)
    return sum(items) / len(items) if items else float("nan")


def seed_summary(results: dict, groups: Iterable[str] | None = None) -> dict[str, dict[str, float]]:
    """Mean and population std (ddof=0) across the seed subtasks of each seed group.

    ``results`` is the dict ``lm_eval.simple_evaluate`` returns. A seed group is a group whose
    subtasks are all named ``<group>_seed<N>``. For every metric key ``m,filter`` present in all
    its subtasks, returns ``{group: {"m,filter": mean, "m_seed_std,filter": std, ...}}``; the
    mean equals lm-eval's own group value for ``acc`` (the YAML aggregates with
    ``weight_by_size: false``). This is the paper's "mean ± std over five seed files".
    """
    out: dict[str, dict[str, float]] = {}
    per_task = results.get("results", {})
    for group, subtasks in results.get("group_subtasks", {}).items():
        if groups is not None and group not in groups:
            continue
        if not subtasks or not all(re.fullmatch(rf"{re.escape(group)}_seed\d+", s) for s in subtasks):
            continue
        entries = [per_task.get(s, {}) for s in subtasks]
        keys = set.intersection(*(set(e) for e in entries)) if entries else set()
        stats: dict[str, float] = {"n_seeds": len(subtasks)}
        for key in sorted(keys):
            if "," not in key or "_stderr," in key:
                continue
            vals = [e[key] for e in entries]
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
                continue
            mu = sum(vals) / len(vals)
            metric, filt = key.split(",", 1)
            stats[key] = mu
            stats[f"{metric}_seed_std,{filt}"] = math.sqrt(sum((v - mu) ** 2 for v in vals) / len(vals))
        out[group] = stats
    return out


def mc_scores(doc: dict, results: list) -> tuple[int, dict[str, float]]:
    """Predicted index and ``acc`` / ``acc_norm`` for a log-likelihood multiple-choice doc.

    ``results`` holds one ``(loglikelihood, is_greedy)`` per choice in ``doc["mc_choices"]``;
    ``acc_norm`` divides by the choice's length in characters, as lm-eval does.
    """
    lls = [float(r[0]) for r in results]
    choices = doc["mc_choices"]
    pred = max(range(len(lls)), key=lambda i: lls[i])
    normed = [ll / max(1, len(" " + c)) for ll, c in zip(lls, choices)]
    pred_norm = max(range(len(normed)), key=lambda i: normed[i])
    gold = int(doc["mc_gold"])
    return pred, {"acc": float(pred == gold), "acc_norm": float(pred_norm == gold)}
