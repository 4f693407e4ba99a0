"""An lm-eval ``LM`` that forwards to the real backend and applies prompt interventions.

lm-eval builds each request's context from the task template; this wrapper sees the requests
(each carries ``.doc``), asks the active prompt intervention for one :class:`PromptEdit` per
document, and splices the edit into the context in place, so the logged samples show the prompt
that was actually scored. It also counts requests and generated tokens for the cell metadata.
"""
from __future__ import annotations

import re
from collections import Counter
from typing import Any, Callable, Mapping

from lm_eval.api.instance import Instance
from lm_eval.api.model import LM

from tom_harness.api.intervention import Intervention, PromptEdit, TaskInfo
from tom_harness.lmeval.progress import quiet
from tom_harness.host.stack import edits_prompts


class PromptEditError(ValueError):
    """The prompt does not contain the document text the edit replaces."""


def splice(context: str, doc: dict, edit: PromptEdit, traits: Mapping[str, Any] | None = None) -> str:
    """Apply ``edit`` to ``context`` using the document's own narrative and question as anchors.

    The narrative is located at its first occurrence, the question at its last occurrence after
    the narrative (a question text may also occur inside a story). Two task traits move
    insertions to the places a benchmark's own layout puts them: ``item_start`` (the preamble
    goes before its last occurrence ahead of the narrative) and ``answer_cue`` (the answer lead
    goes after every occurrence, the preamble's included).
    """
    traits = traits or {}
    for pattern in edit.remove:
        context = re.sub(pattern, "", context)
    narrative, question = doc.get("narrative"), doc.get("question")
    pieces: list[tuple[int, int, str]] = []  # (start, end, replacement)
    n_end = 0
    if edit.narrative is not None or edit.preamble:
        if not narrative or (start := context.find(narrative)) < 0:
            raise PromptEditError("the prompt does not contain the document's narrative verbatim")
        n_end = start + len(narrative)
        new = edit.narrative if edit.narrative is not None else narrative
        item = context.rfind(traits["item_start"], 0, start) if traits.get("item_start") else -1
        if edit.preamble and item >= 0:
            pieces.append((item, item, edit.preamble.rstrip("\n") + "\n\n"))
        elif edit.preamble:
            new = edit.preamble.rstrip("\n") + "\n\n" + new
        pieces.append((start, n_end, new))
    if edit.question is not None or edit.instruction:
        q_start = context.rfind(question) if question else -1
        if q_start < n_end and narrative and question:
            # the last occurrence lies inside the narrative: the question is not asked separately
            q_start = -1
        if q_start < 0:
            raise PromptEditError("the prompt does not contain the document's question verbatim")
        new = edit.question if edit.question is not None else question
        if edit.instruction:
            new = new + "\n" + edit.instruction.strip()
        pieces.append((q_start, q_start + len(question), new))
    out, pos = [], 0
    for start, end, new in sorted(pieces):
        out.append(context[pos:start])
        out.append(new)
        pos = end
    out.append(context[pos:])
    text = "".join(out)
    if edit.answer_lead:
        cue = traits.get("answer_cue")
        text = text.replace(cue, cue + edit.answer_lead) if cue and cue in text else text + edit.answer_lead
    return text


class InterventionLM(LM):
    """Forward every request to ``inner``; rewrite contexts for a prompt intervention first."""

    def __init__(self, inner: LM) -> None:
        super().__init__()
        self.inner = inner
        self.intervention: Intervention | None = None
        self.ctx: Any = None
        self.task_info: Callable[[str], TaskInfo] = lambda name: TaskInfo(name, name)
        self.counts: Counter = Counter()
        self.edits: int = 0
        #: reseed torch before each generate_until call (sampled repeats do not depend on what ran before)
        self.sample_seed: int | None = None
        #: requests answered since ``take_counts``, and who to tell (the runner's cell bar)
        self.answered: int = 0
        self.on_answered: Callable[[int], None] | None = None

    # -- lm-eval surface ---------------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        if name == "inner":  # not yet set (during unpickling)
            raise AttributeError(name)
        return getattr(self.inner, name)

    @property
    def rank(self) -> int:
        return self.inner.rank

    @property
    def world_size(self) -> int:
        return self.inner.world_size

    @property
    def device(self) -> Any:
        return getattr(self.inner, "device", None)

    @property
    def tokenizer_name(self) -> str:
        return self.inner.tokenizer_name

    def chat_template(self, chat_template: bool | str = False) -> str | None:
        return self.inner.chat_template(chat_template)

    def apply_chat_template(self, chat_history: list[dict], add_generation_prompt: bool = True) -> str:
        return self.inner.apply_chat_template(chat_history, add_generation_prompt=add_generation_prompt)

    def all_gather(self, tensor):
        return self.inner.all_gather(tensor)

    def gather_object(self, obj, dst=0):
        return self.inner.gather_object(obj, dst)

    def barrier(self) -> None:
        self.inner.barrier()

    # -- requests ------------------------------------------------------------------------------
    def _answered(self, n: int) -> None:
        """Tell the runner's cell bar (``on_answered``) how many requests were answered."""
        self.answered += n
        if self.on_answered is not None:
            self.on_answered(self.answered)

    def loglikelihood(self, requests: list[Instance], disable_tqdm: bool = False) -> list:
        self._edit(requests)
        self.counts["loglikelihood"] += len(requests)
        out = self.inner.loglikelihood(requests, disable_tqdm=disable_tqdm or quiet())
        self._answered(len(requests))
        return out

    def loglikelihood_rolling(self, requests: list[Instance], disable_tqdm: bool = False) -> list:
        self.counts["loglikelihood_rolling"] += len(requests)
        out = self.inner.loglikelihood_rolling(requests, disable_tqdm=disable_tqdm or quiet())
        self._answered(len(requests))
        return out

    def generate_until(self, requests: list[Instance], disable_tqdm: bool = False) -> list[str]:
        self._edit(requests)
        self.counts["generate_until"] += len(requests)
        if self.sample_seed is not None:
            import torch

            torch.manual_seed(self.sample_seed)
        outputs = self.inner.generate_until(requests, disable_tqdm=disable_tqdm or quiet())
        self._answered(len(requests))
        tok = getattr(self.inner, "tokenizer", None)
        if tok is not None:
            self.counts["generated_tokens"] += sum(
                len(tok(o, add_special_tokens=False)["input_ids"]) for o in outputs
            )
        return outputs

    def take_counts(self) -> dict[str, int]:
        out = dict(self.counts)
        out["prompt_edits"] = self.edits
        self.counts, self.edits, self.answered = Counter(), 0, 0
        return out

    def _render(self, edit: PromptEdit) -> str:
        """A whole-prompt edit's chat turns as the model's input text, rendered as the
        intervention's own calls are (the caller holds the run's chat-template setting)."""
        caller = getattr(self.ctx, "caller", None)
        if caller is None:
            raise PromptEditError("a whole-prompt edit (messages) needs the run context's caller")
        return caller.render(list(edit.messages or []))

    def _edit(self, requests: list[Instance]) -> None:
        """Rewrite contexts in place, one intervention call per task over its distinct docs."""
        iv = self.intervention
        if iv is None or not edits_prompts(iv):
            return
        by_task: dict[str, dict[Any, list[Instance]]] = {}
        seen: set[int] = set()
        for req in requests:
            if id(req) in seen or getattr(req, "_tomh_edited", False):
                continue
            seen.add(id(req))
            by_task.setdefault(req.task_name, {}).setdefault(req.doc_id, []).append(req)
        for task_name, groups in by_task.items():
            info = self.task_info(task_name)
            if not iv.applies_to(info):
                continue
            doc_ids = list(groups)
            docs = [groups[d][0].doc for d in doc_ids]
            edits = iv.edit_prompts(docs, info, self.ctx)
            if len(edits) != len(docs):
                raise ValueError(f"{iv.label()}: edit_prompts returned {len(edits)} edits for {len(docs)} docs")
            for doc_id, doc, edit in zip(doc_ids, docs, edits):
                for req in groups[doc_id]:
                    req._tomh_edited = True  # type: ignore[attr-defined]
                    if edit is None:
                        continue
                    args = list(req.arguments)
                    try:
                        args[0] = self._render(edit) if edit.messages is not None else splice(args[0], doc, edit, info.traits)
                    except PromptEditError as exc:
                        raise PromptEditError(f"{iv.label()} on {task_name}: {exc}") from None
                    if req.request_type == "generate_until" and edit.gen_kwargs:
                        args[1] = {**args[1], **edit.gen_kwargs}
                    req.arguments = tuple(args)
                if edit is not None:
                    self.edits += 1
                    if edit.info:
                        doc.setdefault("_tomh_edit", edit.info)
