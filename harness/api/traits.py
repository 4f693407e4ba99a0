"""Task traits: what a task *is*, declared in its YAML ``metadata``, read by interventions.

Interventions never name benchmarks. They state what they need (``requires = {"unit":
("event", "utterance", "sentence"), "narrative_in_prompt": True}``) and a new task folder that
declares matching traits gets every method that fits, with no plugin edit. See docs/tasks.md.

A requirement value is one of

* ``True``: the trait must be present and true (``False``: present and false);
* a single value: the trait must equal it;
* a tuple (or list/set) of values: the trait must be one of them. For list-valued traits
  (``tom_orders``, the pseudo-trait ``output_type``) it is enough that one element is allowed.
"""
from __future__ import annotations

from typing import Any, Mapping

#: name -> (allowed values or None for free-form, meaning). Unknown trait names are allowed
#: (a plugin may define its own); these are the ones the core and built-in plugins read.
TRAITS: dict[str, tuple[tuple | None, str]] = {
    "family": (None, "benchmark the task belongs to (informational; defaults to the task name)"),
    "dataset": (None, "data-directory dataset the task reads (<data_dir>/<dataset>/...)"),
    "unit": (("event", "utterance", "sentence", "document"),
             "what the narrative is made of: event sentences (ToMi-like), dialogue utterances "
             "('Speaker: text' lines), ordinary prose sentences, or running text"),
    "question_kind": (("free", "choice", "yesno", "list", "mixed", "none"),
                      "how the question is answered; none: no question (completion, perplexity)"),
    "has_reduced_question": ((True, False), "every doc carries a usable reduced_question"),
    "tom_orders": (None, "list of the ToM orders the questions probe (0 = reality/first-hand)"),
    "generated": ((True, False), "stories come from a generator, not a published file"),
    "narrative_in_prompt": ((True, False),
                            "the prompt holds the doc's narrative verbatim, then its question, so "
                            "prompt edits can replace or extend them"),
    "templated": ((True, False), "stories use the fixed enter/exit/move templates a rule tracker can simulate"),
    "headline": (None, "the metric tables summarise the task by"),
    "answer_cue": (None, "the text every answer follows in the prompt (e.g. 'Answer: '); an answer lead "
                         "such as a step-by-step phrase goes right after each one, worked examples' too"),
    "item_start": (None, "the text the task's item begins with in the prompt (e.g. 'Scenario: '); "
                         "worked examples go before it"),
    "reasoning_cue": (None, "the benchmark's own wording of the step-by-step phrase (sbs uses it "
                            "unless given text=)"),
    "condition": (None, "the condition a subtask's items probe (e.g. belief); see control_of"),
    "control_of": (None, "this subtask is the control of the sibling whose condition is named: its "
                         "group gets <condition>_minus_<control condition> of the headline metric"),
    "paired_ttest": ((True, False), "the leaderboard adds the original study's paired t-test over "
                                    "per-item scores (scipy ttest_rel) beside the harness's own test"),
}
#: question kinds that ask something (prompt methods that reason about the question need one)
ASKED = ("free", "choice", "yesno", "list", "mixed")
#: narratives made of discrete events that story-level prompt methods can split and filter
STORY_UNITS = ("event", "utterance", "sentence")


def _show(value: Any) -> str:
    if isinstance(value, (tuple, list, set, frozenset)):
        return "|".join(str(v) for v in value)
    return str(value).lower() if isinstance(value, bool) else str(value)


def describe(requires: Mapping[str, Any]) -> str:
    """``unit=event|utterance, narrative_in_prompt`` (for ``tom-harness list``)."""
    parts = []
    for key, want in requires.items():
        parts.append(key if want is True else f"{key}={_show(want)}")
    return ", ".join(parts)


def mismatch(requires: Mapping[str, Any], traits: Mapping[str, Any]) -> str | None:
    """The first requirement ``traits`` fail, as a phrase naming the trait; None when all hold."""
    for key, want in requires.items():
        if key not in traits or traits[key] is None:
            return f"the task does not declare trait {key!r} (needs {describe({key: want})})"
        have = traits[key]
        values = list(have) if isinstance(have, (list, tuple, set, frozenset)) else [have]
        if isinstance(want, bool):
            ok = all(bool(v) is want for v in values) and bool(values)
        elif isinstance(want, (tuple, list, set, frozenset)):
            ok = any(v in want for v in values)
        else:
            ok = any(v == want for v in values)
        if not ok:
            return f"trait {key}={_show(have)} (needs {describe({key: want})})"
    return None


def check_declared(task: str, traits: Mapping[str, Any]) -> list[str]:
    """Problems with a task's declared traits (values outside their vocabulary)."""
    problems = []
    for key, (allowed, _meaning) in TRAITS.items():
        if key in traits and allowed is not None and traits[key] not in allowed:
            problems.append(f"task {task}: metadata {key}={traits[key]!r} is not one of {_show(allowed)}")
    return problems
