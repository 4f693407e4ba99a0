"""Knowledge bases backed by a model: ``prompted`` (Enigma-P), where the evaluated model answers
every stage through ``ctx.caller``, and ``trained`` (Enigma-T), where the evaluated model plans
(rooms, event rooms, entities of interest, question reduction) and a separate causal LM,
optionally with a LoRA adapter (peft), answers the entity-state and character-location queries,
as in the paper."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

from tom_harness import UsageError

from .. import prompts as P
from ..rules import NONE
from .base import KnowledgeBase, States

if TYPE_CHECKING:  # pragma: no cover
    from tom_harness import RunContext


class ModelKB(KnowledgeBase):
    """Planning stages answered by the evaluated model; state queries by ``self.query``."""

    def __init__(self, ctx: "RunContext", max_gen_toks: int = 64, plan_max_tokens: int = 256, **kw: Any) -> None:
        super().__init__(**kw)
        self.ctx = ctx
        self.max_gen_toks = max_gen_toks
        self.plan_max_tokens = plan_max_tokens

    def identity(self) -> list[Any]:
        return super().identity() + [self.ctx.handle.fingerprint, self.ctx.caller.state, self.max_gen_toks,
                                    self.plan_max_tokens]

    def ask(self, prompts: Sequence[str | list[dict]], max_gen_toks: int) -> list[str]:
        """The evaluated model, through the harness's cached, counted caller."""
        self.logical_calls += len(prompts)
        return self.ctx.caller.generate(list(prompts), max_gen_toks=max_gen_toks) if prompts else []

    def query(self, prompts: list[str]) -> list[str]:
        """Entity-state queries (Eq. 3); the prompted KB asks the evaluated model."""
        return self.ask(prompts, self.max_gen_toks)

    def rooms(self, stories):
        """One call per story; dialogues are masked by presence, not rooms, so they skip it."""
        todo = [i for i, s in enumerate(stories) if not s.dialogue]
        outs = self.ask([P.rooms_prompt(stories[i].events) for i in todo], min(96, self.plan_max_tokens))
        rooms = [["location"] for _ in stories]
        for i, out in zip(todo, outs):
            rooms[i] = P.parse_rooms(out) or ["location"]
        return rooms

    def event_rooms(self, stories, rooms):
        result: list[list[str | None]] = [[r[0]] * len(s.events) for s, r in zip(stories, rooms)]
        todo = [i for i, r in enumerate(rooms) if len(r) > 1]  # one room: no call needed
        outs = self.ask([P.event_rooms_prompt(stories[i].events, rooms[i]) for i in todo],
                        min(self.plan_max_tokens, 8 * max((len(stories[i].events) for i in todo), default=1) + 16))
        for i, out in zip(todo, outs):
            result[i] = P.parse_event_rooms(out, len(stories[i].events), rooms[i])
        return result

    def entities(self, stories, chars, attributes):
        outs = self.ask([P.entities_prompt(s.events, s.questions, attributes) for s in stories], self.plan_max_tokens)
        return [P.parse_entities(o, c, self.faithful)[: self.max_entities] for o, c in zip(outs, chars)]

    def entity_states(self, stories, entities, attributes):
        prompts, where = [], []
        for si, (s, ents) in enumerate(zip(stories, entities)):
            for t in range(len(s.events)):
                context = " ".join(s.events[: t + 1])  # cumulative prefix, as in the paper
                for e in ents:
                    prompts.append(P.state_prompt(context, e, attributes))
                    where.append((si, t, e))
        outs = self.query(prompts)
        states: list[States] = [[{e: [] for e in ents} for _ in s.events] for s, ents in zip(stories, entities)]
        for (si, t, e), out in zip(where, outs):
            states[si][t][e] = P.parse_state(out)
        return states

    def character_locations(self, stories, chars, rooms):
        prompts, where = [], []
        for si, (s, cs) in enumerate(zip(stories, chars)):
            for t, ev in enumerate(s.events):  # the single event, not the prefix (as in the paper)
                for c in cs:
                    prompts.append(P.state_prompt(ev, P.location_entity(c, s.dialogue), True, self.faithful))
                    where.append((si, t, c))
        outs = self.query(prompts)
        reports: dict[tuple[int, int, str], list[list[str]]] = {
            w: P.parse_state(o) for w, o in zip(where, outs)
        }
        return [self._vectorise(s, cs, rs, si, reports) for si, (s, cs, rs) in enumerate(zip(stories, chars, rooms))]

    def _vectorise(self, story, chars, rooms, si, reports) -> dict[str, list[str]]:
        """Turn per-event location reports into the room (or True/False) after each event."""
        out: dict[str, list[str]] = {}
        for c in chars:
            cur = "False" if story.dialogue else NONE
            vec = []
            for t, ev in enumerate(story.events):
                for _, _, state in reports.get((si, t, c), []):
                    if story.dialogue:
                        cur = "False" if P.is_leaving(state, self.faithful) else "True"
                    elif P.is_leaving(state, self.faithful):
                        cur = NONE
                    else:
                        cur = P.match_room(state, rooms) or cur
                if story.dialogue and not self.faithful and ev.split(":")[0].strip() == c:
                    cur = "True"  # whoever speaks a line is in the conversation
                vec.append(cur)
            out[c] = vec
        return out

    def reduce(self, questions):
        outs = self.ask([P.reduce_prompt(q) for q in questions], min(48, self.plan_max_tokens))
        return [P.parse_reduced(o, q) for o, q in zip(outs, questions)]


class PromptedKB(ModelKB):
    name = "prompted"


class TrainedKB(ModelKB):
    """A separate causal LM (+ optional LoRA adapter) answers the state queries."""

    name = "trained"

    def __init__(self, ctx: "RunContext", kb_model: str, kb_adapter: str = "", batch_size: int = 8, **kw: Any) -> None:
        super().__init__(ctx, **kw)
        if not kb_model:
            raise UsageError("enigma: parameter 'kb_model' is required with nkb=trained "
                             "(an HF id or local path of a causal LM, e.g. meta-llama/Llama-3.1-8B-Instruct)")
        self.kb_model, self.kb_adapter, self.batch_size = kb_model, kb_adapter, batch_size
        self._model: Any = None
        self._tok: Any = None

    def identity(self) -> list[Any]:
        return super().identity() + [self.kb_model, self.kb_adapter]

    def load(self) -> None:
        if self._model is not None:
            return
        from transformers import AutoModelForCausalLM, AutoTokenizer

        try:
            tok = AutoTokenizer.from_pretrained(self.kb_model)
            model = AutoModelForCausalLM.from_pretrained(self.kb_model, dtype="auto")
            if self.kb_adapter:
                from peft import PeftModel

                model = PeftModel.from_pretrained(model, self.kb_adapter)
        except OSError as err:
            raise UsageError(f"enigma: cannot load kb_model={self.kb_model!r} / kb_adapter={self.kb_adapter!r}: {err}") from None
        import torch

        device = self.ctx.handle.device or ("cuda" if torch.cuda.is_available() else "cpu")
        self._model = model.to(device).eval()
        tok.padding_side = "left"
        if tok.pad_token is None:
            tok.pad_token = tok.eos_token
        self._tok = tok

    def render(self, prompt: str) -> str:
        """Chat-format the query. Faithful: no generation prompt, as the original code did."""
        if getattr(self._tok, "chat_template", None):
            return self._tok.apply_chat_template(
                [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=not self.faithful
            )
        return prompt

    def query(self, prompts: list[str]) -> list[str]:
        import torch

        self.load()
        self.logical_calls += len(prompts)
        outs: list[str] = []
        for i in range(0, len(prompts), self.batch_size):
            texts = [self.render(p) for p in prompts[i : i + self.batch_size]]
            enc = self._tok(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(self._model.device)
            with torch.no_grad():
                gen = self._model.generate(**enc, max_new_tokens=self.max_gen_toks, do_sample=False,
                                           pad_token_id=self._tok.pad_token_id)
            outs += self._tok.batch_decode(gen[:, enc["input_ids"].shape[1]:], skip_special_tokens=True)
        return outs
