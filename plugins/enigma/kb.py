"""Knowledge bases behind one interface: what the pipeline asks about a batch of stories.

* ``prompted`` (Enigma-P): the evaluated model answers every stage through ``ctx.caller``.
* ``trained`` (Enigma-T): the evaluated model plans (rooms, event rooms, entities of interest,
  question reduction) and a separate causal LM, optionally with a LoRA adapter (peft), answers
  the entity-state and character-location queries, as in the paper.
* ``cache``: the EnigmaToM result files for Llama-3.1-8B in ``<data>/enigma_cache``.
* ``rules``: the deterministic tracker of :mod:`.rules` (no model calls).

Every method takes a list of stories and returns one result per story, so model calls batch.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from tom_harness.datadir import find_dir
from tom_harness.errors import UsageError
from tom_harness.stories import Story, find_characters

from . import prompts as P
from .rules import NONE, track

if TYPE_CHECKING:  # pragma: no cover
    from tom_harness.context import RunContext

States = list[dict[str, list[list[str]]]]  # per event: {entity: [[x, y, state], ...]}


class KnowledgeBase:
    """Defaults: characters by speakers/NER; everything else must be provided by a subclass."""

    name = ""
    #: whether stage outputs go to the artifact cache (not worth it for files or rules)
    cacheable = True

    def __init__(self, ner_model: str = "", faithful: bool = False, max_entities: int = 5) -> None:
        self.ner_model = ner_model
        self.faithful = faithful
        self.max_entities = max_entities
        self.logical_calls = 0

    def identity(self) -> list[Any]:
        return [self.name, self.ner_model, self.faithful, self.max_entities]

    def characters(self, stories: list[Story]) -> list[list[str]]:
        return [find_characters(s, self.ner_model)[0] for s in stories]

    def rooms(self, stories: list[Story]) -> list[list[str]]:
        raise NotImplementedError

    def event_rooms(self, stories: list[Story], rooms: list[list[str]]) -> list[list[str | None]]:
        raise NotImplementedError

    def entities(self, stories: list[Story], chars: list[list[str]], attributes: bool) -> list[list[str]]:
        raise NotImplementedError

    def entity_states(self, stories: list[Story], entities: list[list[str]], attributes: bool) -> list[States]:
        raise NotImplementedError

    def character_locations(
        self, stories: list[Story], chars: list[list[str]], rooms: list[list[str]]
    ) -> list[dict[str, list[str]]]:
        raise NotImplementedError

    def reduce(self, questions: list[str]) -> list[str | None]:
        """Model-based question reduction; None where this knowledge base cannot reduce."""
        return [None] * len(questions)


# -- model-backed knowledge bases -------------------------------------------------------------
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
                    prompts.append(P.state_prompt(ev, P.location_entity(c, s.dialogue), True))
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


# -- cached EnigmaToM outputs -------------------------------------------------------------------
class CacheKB(KnowledgeBase):
    """Reads ``<data>/enigma_cache/<dataset>/seed<N>/`` (Llama-3.1-8B + Enigma-8B outputs)."""

    name = "cache"
    cacheable = False

    def __init__(self, data_root: Path, **kw: Any) -> None:
        super().__init__(**kw)
        self.root = Path(data_root) / "enigma_cache"
        self._seeds: dict[tuple[str, str], dict[str, Any]] = {}

    def _load_seed(self, dataset: str, seed_dir: str) -> dict[str, Any]:
        key = (dataset, seed_dir)
        if key not in self._seeds:
            d = self.root / dataset / seed_dir
            read: Callable[[str], Any] = lambda n: json.loads((d / n).read_text())
            bundle: dict[str, Any] = {
                "characters": read("characters.json"),
                "rooms": read("rooms.json"),
                "event_rooms": {e["id"]: e.get("narrative_location_vec") for e in read("event_rooms.json")},
                "world_state": read("world_state.json"),
                "world_state_attr": read("world_state_attr.json"),
            }
            locs: dict[str, dict[str, list]] = {}
            for e in read("character_locations.json"):
                locs.setdefault(e["id"], {})[e["character"]] = e["location_vec"]
            bundle["locations"] = locs
            self._seeds[key] = bundle
        return self._seeds[key]

    def bundle(self, story: Story) -> dict[str, Any] | None:
        """The seed folder holding ``story`` (its own seed first, then any other)."""
        dataset = story.dataset.split("_")[0]
        base = self.root / dataset
        if not base.is_dir():
            return None
        order = [f"seed{story.seed}"] if story.seed >= 0 else []
        order += sorted(p.name for p in base.iterdir() if p.is_dir() and p.name not in order)
        for name in order:
            if (base / name).is_dir():
                b = self._load_seed(dataset, name)
                if story.id in b["characters"]:
                    return b
        return None

    def covers(self, story: Story) -> bool:
        return self.bundle(story) is not None

    def _need(self, story: Story) -> dict[str, Any]:
        b = self.bundle(story)
        if b is None:
            raise UsageError(f"enigma nkb=cache: story {story.id} of {story.dataset} is not in {self.root}")
        return b

    def characters(self, stories):
        return [list(self._need(s)["characters"][s.id]) for s in stories]

    def rooms(self, stories):
        return [[r.lower() for r in self._need(s)["rooms"][s.id]["detected_locations"]] for s in stories]

    def event_rooms(self, stories, rooms):
        out = []
        for s, rs in zip(stories, rooms):
            vec = self._need(s)["event_rooms"].get(s.id)
            if not vec:  # two FANToM stories have none; the original put every event in the first room
                vec = [rs[0] if rs else "location"] * len(s.events)
            out.append([None if v in (None, "none") else str(v).lower() for v in vec])
        return out

    def _ws(self, story: Story, attributes: bool) -> dict[str, Any]:
        return self._need(story)["world_state_attr" if attributes else "world_state"].get(story.id, {}).get("openpi_states", {})

    def entities(self, stories, chars, attributes):
        out = []
        for s in stories:
            stamps = self._ws(s, attributes)
            first = next(iter(stamps.values()), {})
            out.append(list(first.get("entity_state_changes", {}))[: self.max_entities])
        return out

    def entity_states(self, stories, entities, attributes):
        out: list[States] = []
        for s, ents in zip(stories, entities):
            stamps = self._ws(s, attributes)
            per_event: States = []
            for t in range(len(s.events)):  # a missing last time stamp (an original bug) = no change
                changes = stamps.get(f"time-stamp-{t + 1}", {}).get("entity_state_changes", {})
                per_event.append({e: changes.get(e, []) for e in ents})
            out.append(per_event)
        return out

    def character_locations(self, stories, chars, rooms):
        return [{c: [str(v) for v in vec] for c, vec in self._need(s)["locations"].get(s.id, {}).items()} for s in stories]


# -- deterministic tracker --------------------------------------------------------------------
class RulesKB(KnowledgeBase):
    """Exact states of templated stories by simulation; zero model calls."""

    name = "rules"
    cacheable = False

    def _tracked(self, story: Story, chars: list[str] | None = None):
        return track(story, chars if chars is not None else self.characters([story])[0])

    def rooms(self, stories):
        return [self._tracked(s, []).rooms or ["location"] for s in stories]

    def event_rooms(self, stories, rooms):
        return [self._tracked(s, []).event_rooms for s in stories]

    def entities(self, stories, chars, attributes):
        from .rules import question_object

        out = []
        for s in stories:
            objs: list[str] = []
            for q in s.questions:
                o = question_object(q)
                if o and o not in objs:
                    objs.append(o)
            ents = [f"location of {o}" if attributes else o for o in objs]
            out.append(ents[: self.max_entities])
        return out

    def entity_states(self, stories, entities, attributes):
        out: list[States] = []
        for s, ents in zip(stories, entities):
            tracked = self._tracked(s, [])
            per_event: States = []
            for changed in tracked.changed:
                row: dict[str, list[list[str]]] = {}
                for e in ents:
                    obj = e[len("location of "):] if e.startswith("location of ") else e
                    if obj in changed:
                        state = f"in {changed[obj]}"
                        row[e] = [[obj, "Location", state]] if attributes else [["", obj, state]]
                    else:
                        row[e] = []
                per_event.append(row)
            out.append(per_event)
        return out

    def character_locations(self, stories, chars, rooms):
        return [self._tracked(s, cs).locations for s, cs in zip(stories, chars)]


NKB_CHOICES = ("prompted", "trained", "cache", "rules")


def make_kb(nkb: str, ctx: "RunContext", values: dict[str, Any]) -> KnowledgeBase:
    """Build the knowledge base named by ``nkb`` from the intervention's parameter values."""
    common = dict(ner_model=values.get("ner_model", ""), faithful=values.get("faithful", False),
                  max_entities=values.get("max_entities", 5))
    budgets = dict(max_gen_toks=values.get("kb_max_tokens", 64), plan_max_tokens=values.get("plan_max_tokens", 256))
    if nkb == "prompted":
        return PromptedKB(ctx, **budgets, **common)
    if nkb == "trained":
        return TrainedKB(ctx, values.get("kb_model", ""), values.get("kb_adapter", ""), **budgets, **common)
    if nkb == "cache":
        found = find_dir("enigma_cache")  # the first data root holding the cache
        return CacheKB(found.parent if found else ctx.data_root, **common)
    if nkb == "rules":
        return RulesKB(**common)
    raise UsageError(f"enigma: parameter 'nkb': expected one of {'|'.join(NKB_CHOICES)}, got {nkb!r}")
