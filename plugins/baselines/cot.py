"""Chain of thought (``cot``): explicit reasoning steps before the answer, zero- or two-shot.

No preparatory calls: the task's own answer call carries the reasoning, so the task must
generate freely (``output_type: generate_until``). The task's "without any explanation" is
dropped (it would contradict the reasoning), and the answer is asked for as "Therefore, the
answer is <answer>…</answer>", which both scorers read (``acc`` the tag, ``acc_paper`` the text
after "Therefore"). ``faithful=true`` sends the original's ``cot-text`` template instead.
"""
from __future__ import annotations

from tom_harness import Param, PromptEdit, stories_from_docs
from tom_harness.task_yamls.helpers import user, vanilla_prompt

from .base import FAITHFUL, STORY_TASK, PromptBaseline, is_dialogue
from .original import ANSWER_TOKS, whole_prompt

COT_INSTRUCTION = ("Reason before answering: write your reasoning steps explicitly, one per line. "
                   "End with the sentence 'Therefore, the answer is <answer>X</answer>', where X "
                   "is your answer in the form asked for above.")

#: the task's "no explanation" request, in every task's wording (removed from the prompt)
NO_EXPLANATION = r",? without (?:providing )?any explanation"

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
        FAITHFUL,
    )

    # reasoning needs free generation; multiple-choice loglikelihood tasks cannot carry it
    requires = {**STORY_TASK, "output_type": "generate_until"}

    def edit_prompts(self, docs, task, ctx):
        shots = int(self.values.get("shots", 0))
        self._calls = 0
        self._before = (ctx.caller.stats.calls, ctx.caller.stats.generated_tokens)
        self._finish(ctx, len(stories_from_docs(docs, is_dialogue(task))[0]), len(docs))
        self.metadata["shots"] = shots
        if docs and all(d.get("worked_examples") for d in docs):
            return self._task_examples(docs)
        if self.faithful:  # the original's cot-text template, its 512-token answer budget
            return [whole_prompt(user(vanilla_prompt(d, key="cot-text")), ANSWER_TOKS) for d in docs]
        preamble = None
        if shots:
            worked = "\n\n".join(f"Example {i + 1}:\n{q}\n\n{a}" for i, (q, a) in enumerate(COT_EXAMPLES[:shots]))
            preamble = f"{worked}\n\nNow the story to answer:"
        gen = {"max_gen_toks": int(self.values.get("max_gen_toks", 512))}
        return [PromptEdit(preamble=preamble, instruction=COT_INSTRUCTION, gen_kwargs=dict(gen),
                           remove=(NO_EXPLANATION,)) for _ in docs]

    def _task_examples(self, docs):
        """The task declares its own worked examples, laid out as its original prompt does
        (doc field ``worked_examples``, e.g. Moghaddam & Honey's two-shot block): they are the
        CoT prompt, with no instruction added and the task's generation budget unless
        ``max_gen_toks`` is given."""
        self.metadata["shots"] = "task's worked examples"
        budget = int(self.values.get("max_gen_toks", 512))
        default = next(p.default for p in self.params if p.name == "max_gen_toks")
        gen = {"max_gen_toks": budget} if budget != default else {}
        return [PromptEdit(preamble=d["worked_examples"], gen_kwargs=dict(gen)) for d in docs]
