"""The ``grad_mask`` intervention: perturb weights that are Fisher-sensitive on ToM text only.

``prepare`` gets the two squared-gradient maps from the artifact cache (memory, then disk, then
computation) and turns them into a plan of flat indices per matrix; ``apply`` writes the
perturbation through ``ModelHandle.apply_to_model`` and keeps only the overwritten values;
``remove`` writes them back. A sweep ``m=0:4e-5:1e-5`` builds one instance per m; all of them share
the maps, and the model is never reloaded.
"""
from __future__ import annotations

import functools
import logging
import os
from pathlib import Path
from typing import Any

import torch

from tom_harness import (
    DataRoots, Intervention, Param, UsageError, content_key, data_roots, files_fingerprint, find_dir,
)

from . import sensitivity
from .mask import TIE_RULES, k_for, random_indices, select
from .perturb import PERTURBS, PlanEntry, apply_plan, restore_saved
from .targets import Target, find_targets, role_rank

log = logging.getLogger("tom_harness.grad_mask")

GENERIC_CORPORA = ("auto", "c4", "wikitext2_train", "wikitext2_valid", "wikitext2_test")
CACHE_KIND = "grad_mask_fisher"
WIKITEXT_FILES = {"wikitext2_train": "train.txt", "wikitext2_valid": "valid.txt", "wikitext2_test": "test.txt"}


def _corpus_files(name: str, data: Any) -> list[Path]:
    """The files of one generic corpus through the data API (every data root searched, the
    registry's sha256 checked: an edited file is an error, not a fallback), or [] if absent."""
    if name == "c4":
        folder = find_dir("c4")
        shards = sorted(p.name for p in folder.iterdir() if p.name.endswith((".json", ".json.gz"))) if folder else []
        return [data.path("c4", shard) for shard in shards]
    rel = WIKITEXT_FILES[name]
    if not any((root / "wikitext2" / rel).exists() for root in data_roots()):
        return []
    return [data.path("wikitext2", rel)]


def resolve_generic(choice: str, data: Any = None) -> tuple[str, list[Path]]:
    """The generic corpus actually used and its files. ``auto``: C4, else WikiText-2 train, else
    valid. ``data``: the run's data access (``ctx.data``; default: the data roots)."""
    data = data if data is not None else DataRoots()
    where = os.pathsep.join(str(r) for r in data_roots())
    if choice == "auto":
        for name in ("c4", "wikitext2_train", "wikitext2_valid"):
            files = _corpus_files(name, data)
            if files:
                return name, files
        raise UsageError(
            f"grad_mask: no generic corpus under the data roots {where} (looked for c4/*.json[.gz], "
            "wikitext2/train.txt, wikitext2/valid.txt); run `tom-harness data fetch wikitext2`"
        )
    files = _corpus_files(choice, data)
    if not files:
        raise UsageError(f"grad_mask: parameter 'generic': corpus {choice!r} has no files under the data roots {where}")
    return choice, files


class GradMask(Intervention):
    name = "grad_mask"
    kind = "weights"
    description = (
        "Wu et al. 2025: replace weights with high squared-gradient sensitivity on ToM prompts but "
        "not on generic text (per matrix top m-fraction) by the matrix mean; random control available."
    )
    version = "2"  # 2: full-logits ToM loss, no start draw for seqlen-token documents
    params = (
        Param("m", "float", 1e-5, "fraction of each matrix ranked (k = floor(m*N)); paper: 1e-5", minimum=0.0, maximum=1.0),
        Param("control", "str", "none", "none: Fisher mask; random: same count per matrix, uniform", choices=("none", "random")),
        Param("control_seed", "int", 0, "seed of the random control", replicate=True,
              replicate_when=("control", "random"), minimum=0),
        Param("exclude_generic", "bool", True, "drop entries also in the generic top-k (paper); false: ToM-only"),
        Param("perturb", "str", "mean", "mean: mean of the matrix's other entries (paper); zero", choices=PERTURBS),
        Param("scale", "float", 0.0, "new = base + scale*(old - base); paper default 0"),
        Param("tie_rule", "str", "paper", "paper: strict > k-th value; exact: exactly k, lower index wins", choices=TIE_RULES),
        Param("n_tom", "int", 100, "Fisher prompts used for the ToM map (paper: 100)", minimum=1),
        Param("n_generic", "int", 100, "generic windows for the generic map (paper: 100)", minimum=1),
        Param("generic_seqlen", "int", 128, "tokens per generic window (paper: 128)", minimum=2),
        Param("generic", "str", "auto", "generic corpus; auto: c4, else wikitext2 train, else valid", choices=GENERIC_CORPORA),
        Param("seed", "int", 0, "seed choosing the ToM prompts and generic windows (paper: 0)", minimum=0),
    )

    def __init__(self, **values: Any) -> None:
        super().__init__(**values)
        self.plan: list[PlanEntry] = []
        self._saved: list | None = None

    # -- maps --------------------------------------------------------------------------------
    def map_keys(self, ctx: Any) -> dict[str, tuple[str, dict]]:
        """Cache key and description of each needed map (ToM, and generic unless not excluded)."""
        fp = ctx.handle.fingerprint
        tom_file = ctx.data_path("sparse_tom", "fisher_prompts.json")
        tom_desc = {"data": "sparse_tom/fisher_prompts.json", "n": self.values["n_tom"], "seed": self.values["seed"],
                    "loss": "last_token", "bos": False}
        out = {"tom": (content_key(CACHE_KIND, fp, files_fingerprint([tom_file]), tom_desc, self.version), tom_desc)}
        if self.values["exclude_generic"]:
            corpus, files = resolve_generic(self.values["generic"], ctx.data)
            gen_desc = {"data": corpus, "n": self.values["n_generic"], "seqlen": self.values["generic_seqlen"],
                        "seed": self.values["seed"], "loss": "all_tokens", "bos": False}
            out["generic"] = (content_key(CACHE_KIND, fp, files_fingerprint(files), gen_desc, self.version), gen_desc)
        return out

    def _samples(self, which: str, desc: dict, ctx: Any) -> list[list[int]]:
        tok = ctx.tokenizer
        if which == "tom":
            return sensitivity.tom_samples(tok, ctx.data_path("sparse_tom", "fisher_prompts.json"), desc["n"], desc["seed"])
        _corpus, files = resolve_generic(desc["data"], ctx.data)
        docs = sensitivity.c4_documents(files) if desc["data"] == "c4" else sensitivity.wikitext_documents(files[0])
        try:
            return sensitivity.generic_samples(tok, docs, desc["n"], desc["seqlen"], desc["seed"])
        except ValueError as exc:
            raise UsageError(f"grad_mask: parameter 'generic_seqlen': {exc}") from None

    def _get_map(self, which: str, key: str, desc: dict, ctx: Any, targets: list[Target]) -> dict[str, torch.Tensor]:
        def compute() -> dict[str, torch.Tensor]:
            model = maps_model(ctx)
            samples = self._samples(which, desc, ctx)
            every = max(1, len(samples) // 10)

            def progress(i: int, n: int) -> None:
                if ctx.show_progress and (i % every == 0 or i == n):
                    log.info("grad_mask %s map: %d/%d samples", which, i, n)

            maps, stats = sensitivity.squared_grad_maps(model, targets, samples, which == "tom", progress)
            self.metadata["maps"][which].update(
                samples=stats.samples, tokens=stats.tokens, seconds=round(stats.seconds, 3),
                tokens_per_second=round(stats.tokens_per_second, 1),
            )
            return maps

        got = ctx.cache.fetch(CACHE_KIND, key, compute, fmt="tensors", meta={"map": which, **desc})
        self.metadata["maps"][which]["source"] = got.source  # memory | disk | computed
        return got.value

    # -- lifecycle ------------------------------------------------------------------------------
    def prepare(self, ctx: Any) -> None:
        m = float(self.values["m"])
        targets = find_targets(target_model(ctx))
        keys = self.map_keys(ctx)
        self.metadata = {
            "m": m,
            "control": self.values["control"],
            "maps": {which: {"key": key} for which, (key, _d) in keys.items()},
        }
        if "generic" in keys:
            self.metadata["generic_corpus"] = keys["generic"][1]["data"]
        if m == 0:  # k = 0 everywhere: nothing to rank, no maps needed
            maps = {}
            for info in self.metadata["maps"].values():
                info["source"] = "not needed (m=0)"
        else:
            maps = {which: self._get_map(which, key, desc, ctx, targets) for which, (key, desc) in keys.items()}
        self.plan = build_plan(targets, maps.get("tom"), maps.get("generic"), m, self.values["tie_rule"],
                               self.values["exclude_generic"], self.values["control"], self.values["control_seed"])
        self.metadata.update(plan_summary(self.plan, m))

    def apply(self, ctx: Any) -> None:
        if self._saved is not None:
            raise RuntimeError("grad_mask applied twice without remove")
        fn = functools.partial(apply_plan, plan=self.plan, perturb=self.values["perturb"], scale=float(self.values["scale"]))
        results = ctx.handle.apply_to_model(fn)
        if len(results) != 1:
            raise UsageError("grad_mask supports one model worker (tensor parallel size 1) only")
        self._saved = results[0]["saved"]
        ctx.handle.after_edit()
        self.metadata["magnitude_by_role"] = {
            role: {
                "mean_abs_selected": s["selected_abs_sum"] / s["selected"] if s["selected"] else None,
                "mean_abs_matrix": s["all_abs_sum"] / s["all"] if s["all"] else None,
            }
            for role, s in results[0]["magnitude"].items()
        }

    def remove(self, ctx: Any) -> None:
        if self._saved is None:
            return
        ctx.handle.apply_to_model(functools.partial(restore_saved, saved=self._saved))
        self._saved = None
        ctx.handle.after_edit()


def build_plan(
    targets: list[Target], tom: dict[str, torch.Tensor] | None, generic: dict[str, torch.Tensor] | None,
    m: float, tie_rule: str, exclude_generic: bool, control: str, control_seed: int,
) -> list[PlanEntry]:
    """One plan entry per target matrix (possibly empty), Fisher mask or its random control."""
    plan = []
    for t in targets:
        if k_for(m, t.numel) == 0:
            index = torch.zeros(0, dtype=torch.long)
        else:
            if tom is None or t.param not in tom:
                raise KeyError(f"no ToM map for {t.param}")
            index = select(tom[t.param], generic.get(t.param) if generic else None, m, tie_rule, exclude_generic)
            if control == "random":
                index = random_indices(int(index.numel()), t.numel, control_seed, t.param)
        plan.append(PlanEntry(param=t.param, layer=t.layer, role=t.role, shape=t.shape, index=index))
    return plan


def plan_summary(plan: list[PlanEntry], m: float) -> dict[str, Any]:
    """Counts for cell metadata: total, per role, per layer and role, and k before exclusion."""
    by_role: dict[str, int] = {}
    by_layer: dict[str, dict[str, int]] = {}
    scored = 0
    for e in plan:
        n = int(e.index.numel())
        scored += e.numel
        by_role[e.role] = by_role.get(e.role, 0) + n
        by_layer.setdefault(str(e.layer), {})[e.role] = n
    total = sum(by_role.values())
    return {
        "weights_perturbed": total,
        "weights_perturbed_by_role": dict(sorted(by_role.items(), key=lambda kv: role_rank(kv[0]))),
        "weights_perturbed_by_layer": by_layer,
        "weights_scored": scored,
        "fraction_perturbed": total / scored if scored else 0.0,
        "k_total": sum(k_for(m, e.numel) for e in plan),
        "matrices": len(plan),
    }


def target_model(ctx: Any) -> torch.nn.Module:
    """A module with the HF layout to find targets in: the model itself, or (vLLM) an empty
    skeleton built from the config on the meta device, which costs no memory."""
    if ctx.model is not None:
        return ctx.model
    from transformers import AutoConfig, AutoModelForCausalLM

    args = ctx.handle.model_args
    config = AutoConfig.from_pretrained(str(args["pretrained"]), gguf_file=args.get("gguf_file"))
    with torch.device("meta"):
        return AutoModelForCausalLM.from_config(config)


def maps_model(ctx: Any) -> torch.nn.Module:
    """The HF model gradients are taken on: the model itself, or for vLLM (whose modules cannot be
    differentiated through) the in-process HF twin of the same checkpoint, loaded once."""
    return ctx.handle.in_process_model()
