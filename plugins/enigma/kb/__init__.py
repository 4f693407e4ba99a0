"""Knowledge bases behind one interface (:class:`KnowledgeBase`), chosen by ``nkb``:

* ``prompted`` (Enigma-P) and ``trained`` (Enigma-T): :mod:`.model`;
* ``cache``: the EnigmaToM result files for Llama-3.1-8B in ``<data>/enigma_cache`` (:mod:`.cache`);
* ``rules``: the deterministic tracker of :mod:`..rules`, no model calls (:mod:`.rules`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tom_harness import UsageError, find_dir

from .base import KnowledgeBase, States
from .cache import CacheKB
from .model import ModelKB, PromptedKB, TrainedKB
from .rules import RulesKB

if TYPE_CHECKING:  # pragma: no cover
    from tom_harness import RunContext

__all__ = ["NKB_CHOICES", "CacheKB", "KnowledgeBase", "ModelKB", "PromptedKB", "RulesKB", "States",
           "TrainedKB", "make_kb"]

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
