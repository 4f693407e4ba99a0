"""The intervention contract shared by built-in and third-party plugins.

An intervention is a named, parameterised change to how a model answers. Three kinds:

* ``weights``: edits parameters in place in :meth:`Intervention.apply`, and must put back the
  exact original values in :meth:`Intervention.remove` (the runner checks bit-identity).
* ``activations``: registers forward hooks in ``apply`` and removes them in ``remove``.
* ``prompts``: rewrites each document's prompt through :meth:`Intervention.edit_prompts`; it may
  itself call the model through ``ctx.caller`` (a batched, cached generation interface).

Plugins subclass :class:`Intervention`, declare ``name``, ``kind`` and ``params`` and register
the class through the ``register_interventions`` hook.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Mapping, Sequence

from tom_harness.api.params import Param, format_value
from tom_harness.api.traits import describe, mismatch

if TYPE_CHECKING:  # pragma: no cover
    from tom_harness.api.context import RunContext

KINDS = ("none", "weights", "activations", "prompts")


@dataclass(frozen=True)
class TaskInfo:
    """What an intervention may know about a task to decide whether it applies.

    ``traits`` are the task's declared traits (YAML ``metadata``: ``unit``, ``question_kind``,
    ``has_reduced_question``, ``tom_orders``, ``generated``, ``dataset``, ... see
    :mod:`tom_harness.api.traits`); a group carries the traits its subtasks agree on. ``family`` is
    ``metadata.family`` (default: the task name), kept for display. ``output_types`` are the
    lm-eval request types of the task and its subtasks.
    """

    name: str
    family: str
    output_types: tuple[str, ...] = ()
    subtasks: tuple[str, ...] = ()
    traits: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def trait(self, key: str, default: Any = None) -> Any:
        """A declared trait; ``output_type`` is the request types, ``family`` the family."""
        if key == "output_type":
            return self.output_types or default
        if key == "family":
            return self.family
        return self.traits.get(key, default)

    def all_traits(self) -> dict[str, Any]:
        """Declared traits plus the pseudo-traits ``family`` and ``output_type``."""
        out = {**self.traits, "family": self.family}
        if self.output_types:
            out["output_type"] = list(self.output_types)
        return out


@dataclass
class PromptEdit:
    """How one document's prompt changes. Every field is optional.

    The harness applies an edit to the request context lm-eval built from the task's own template
    (chat template included), so answer formats stay the task's:

    * ``narrative``: replaces the document's ``narrative`` text where it appears in the prompt;
    * ``question``: replaces the document's ``question`` text;
    * ``preamble``: inserted before the narrative (e.g. worked examples), or before the task's
      trait ``item_start`` (the text its item begins with, e.g. ``"Scenario: "``) when declared;
    * ``instruction``: inserted right after the question (e.g. "Let's think step by step.");
    * ``answer_lead``: the words the answer starts with, inserted right after every answer cue of
      the prompt (the task's trait ``answer_cue``, e.g. ``"Answer: "``; worked examples' answers
      included), or at the end of the prompt when the task declares no cue;
    * ``gen_kwargs``: overrides for generation requests (e.g. more ``max_gen_toks`` for CoT);
    * ``info``: free-form notes stored with the sample (e.g. the masked-away events);
    * ``remove``: regular expressions whose matches are deleted from the task's prompt before the
      splices (e.g. CoT drops "without any explanation");
    * ``messages``: the whole prompt as chat turns (``[{"role", "content"}, ...]``), replacing the
      task's prompt: a faithful reproduction of another code base's prompt and turn structure.
      It is rendered like the interventions' own calls (``ctx.caller.render``: the run's chat
      template and system instruction; without a chat template the turns are joined by blank
      lines); the other text fields are then ignored, ``gen_kwargs`` still apply.
    """

    narrative: str | None = None
    question: str | None = None
    preamble: str | None = None
    instruction: str | None = None
    answer_lead: str | None = None
    gen_kwargs: dict[str, Any] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    remove: tuple[str, ...] = ()
    messages: list[dict[str, str]] | None = None


class Intervention:
    """Base class. Subclasses set the class attributes and override the hooks they need."""

    name: ClassVar[str] = ""
    kind: ClassVar[str] = "none"
    description: ClassVar[str] = ""
    params: ClassVar[Sequence[Param]] = ()
    #: task traits this intervention needs, e.g. ``{"unit": ("event", "utterance"),
    #: "narrative_in_prompt": True}`` (see :mod:`tom_harness.api.traits`); empty: every task.
    requires: ClassVar[Mapping[str, Any]] = {}
    #: bump when a change alters prepared artifacts, so cached ones are not reused.
    version: ClassVar[str] = "1"

    def __init__(self, **values: Any) -> None:
        #: every declared parameter's value (defaults filled in, so ``values[name]`` always works)
        self.values: dict[str, Any] = {**{p.name: p.default for p in self.params}, **values}
        #: numbers to store with every cell (weights perturbed, model calls, ...)
        self.metadata: dict[str, Any] = {}

    # -- identity -------------------------------------------------------------------------
    def label(self) -> str:
        """Row label: the name plus the parameters that differ from their defaults (replicate
        parameters always shown, so each draw has its own row)."""
        defaults = {p.name: p.default for p in self.params}
        rep = set(self.replicate_params())
        shown = [
            f"{k}={format_value(v)}" for k, v in self.values.items() if defaults.get(k) != v or k in rep
        ]
        return self.name + (":" + ",".join(shown) if shown else "")

    def replicate_params(self) -> list[str]:
        """Parameters whose values are draws of one condition (see ``Param.replicate_when``)."""
        defaults = {p.name: p.default for p in self.params}
        out = []
        for p in self.params:
            if not p.replicate:
                continue
            if p.replicate_when is not None:
                key, wanted = p.replicate_when
                if self.values.get(key, defaults.get(key)) != wanted:
                    continue
            out.append(p.name)
        return out

    def group_label(self) -> str:
        """The label without replicate parameters: rows sharing it are draws of one condition."""
        rep = set(self.replicate_params())
        defaults = {p.name: p.default for p in self.params}
        shown = [
            f"{k}={format_value(v)}"
            for k, v in self.values.items()
            if k not in rep and defaults.get(k) != v
        ]
        return self.name + (":" + ",".join(shown) if shown else "")

    # -- applicability --------------------------------------------------------------------
    def applies_to(self, task: TaskInfo) -> bool:
        """Whether this intervention makes sense on ``task``; the matrix shows n/a otherwise.

        Override :meth:`not_applicable_reason` rather than this, so the n/a cell says why."""
        return self.not_applicable_reason(task) is None

    def not_applicable_reason(self, task: TaskInfo) -> str | None:
        """Why this intervention does not apply to ``task`` (naming the trait), or None."""
        miss = mismatch(self.requires, task.all_traits())
        if miss:
            return f"{self.label()} does not apply to {task.name}: {miss}"
        return None

    def na_reason(self, task: TaskInfo) -> str:
        """The n/a reason recorded in a cell (works for plugins that override ``applies_to``)."""
        return self.not_applicable_reason(task) or f"{self.label()} does not apply to {task.name} (its applies_to says so)"

    @classmethod
    def requirements_text(cls) -> str:
        """``requires: unit=event|utterance, ...`` for ``tom-harness list`` ('' when none)."""
        return "requires: " + describe(cls.requires) if cls.requires else ""

    def unavailable(self, ctx: "RunContext") -> str | None:
        """Why this row cannot run on the loaded backend (the cell is n/a with this reason), or
        None. Asked before each of the row's cells, before ``prepare``; e.g. a LoRA adapter on a vLLM engine
        started without ``enable_lora``. Task-dependent n/a belongs in ``requires``."""
        return None

    # -- lifecycle ------------------------------------------------------------------------
    def prepare(self, ctx: "RunContext") -> None:
        """Compute expensive artifacts (use ``ctx.cache``); called once before any cell."""

    def apply(self, ctx: "RunContext") -> None:
        """Change the model (weights or hooks) before a cell runs."""

    def remove(self, ctx: "RunContext") -> None:
        """Undo :meth:`apply` exactly."""

    def edit_prompts(
        self, docs: list[dict], task: TaskInfo, ctx: "RunContext"
    ) -> list[PromptEdit | None]:
        """For ``prompts`` interventions: one edit (or None for unchanged) per document."""
        return [None] * len(docs)

    def cell_metadata(self) -> dict[str, Any]:
        """Numbers recorded in every cell file of this intervention."""
        return dict(self.metadata)

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"<{type(self).__name__} {self.label()}>"


class NoIntervention(Intervention):
    """The baseline row."""

    name = "none"
    kind = "none"
    description = "Baseline: the model as loaded."
