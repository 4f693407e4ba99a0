"""Chain of thought (``cot``): explicit reasoning steps before the answer, zero- or two-shot.

No preparatory calls: the task's own answer call carries the reasoning, so the task must
generate freely (``output_type: generate_until``).
"""
from __future__ import annotations

from tom_harness import Param, PromptEdit, stories_from_docs

from .base import STORY_TASK, PromptBaseline, is_dialogue


COT_INSTRUCTION = ("Think step by step: list the reasoning steps explicitly, one per line, then "
                   "give the final answer in the required format.")


COT_EXAMPLES = (
    ("Events:\nMia entered the den. Leo entered the den. The key is in the drawer. Mia exited the "
     "den. Leo moved the key to the basket.\n\nQuestion:\nWhere will Mia look for the key?",
     "1. Mia saw the key in the drawer.\n2. Mia left before Leo moved it, so she did not see the move.\n"
     "3. Mia still believes the key is in the drawer.\nTherefore, the answer is <answer>drawer</answer>"),
    ("Events:\nAva: I adopted a parrot last week!\nBen: Nice. I have to go, see you.\nAva: It already "
     "says hello.\nCleo: Ha, that's funny.\n\nQuestion:\nDoes Ben know that the parrot says hello?",
     "1. Ben left right after hearing about the parrot.\n2. The fact that it says hello came after he "
     "left.\n3. Ben was not there to hear it.\nTherefore, the answer is <answer>no</answer>"),
)


class CoT(PromptBaseline):
    name = "cot"
    description = "Chain-of-thought: explicit reasoning steps before the answer (zero- or two-shot)."
    params = (
        Param("shots", "int", 0, "worked examples before the story (0 or 2)", minimum=0, maximum=2),
        Param("max_gen_toks", "int", 512, "generation budget for the reasoning", minimum=16),
    )

    # reasoning needs free generation; multiple-choice loglikelihood tasks cannot carry it
    requires = {**STORY_TASK, "output_type": "generate_until"}

    def edit_prompts(self, docs, task, ctx):
        shots = int(self.values.get("shots", 0))
        preamble = None
        if shots:
            worked = "\n\n".join(f"Example {i + 1}:\n{q}\n\n{a}" for i, (q, a) in enumerate(COT_EXAMPLES[:shots]))
            preamble = f"{worked}\n\nNow the story to answer:"
        gen = {"max_gen_toks": int(self.values.get("max_gen_toks", 512))}
        self._calls = 0
        self._before = (ctx.caller.stats.calls, ctx.caller.stats.generated_tokens)
        self._finish(ctx, len(stories_from_docs(docs, is_dialogue(task))[0]), len(docs))
        self.metadata["shots"] = shots
        return [PromptEdit(preamble=preamble, instruction=COT_INSTRUCTION, gen_kwargs=dict(gen)) for _ in docs]
