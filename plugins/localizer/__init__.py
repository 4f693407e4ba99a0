"""Built-in plugin ``localizer``: contrast-based functional localizers and unit lesioning.

Reimplements the method of ToMechanisms (Jamaa et al., 2025) and its anchor, AlKhamissi et al.
(2024): find residual-stream units whose activation differs most between a ToM (or language, or
multiple-demand) condition and its control (Welch t over localizer stimuli), then zero them on
every position while a task runs. ``select=random`` with ``seeds=0:N`` gives the control draws.
See docs/localizer.md.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import torch

from tom_harness import NETWORKS, POOLINGS, WORDINGS, Intervention, Param, hookimpl, surgery

from . import lesion
from .report import export_tmap, write_reports
from .select import RANDOM_POOLS, SELECTIONS, select_units, unit_count
from .stats import STATS
from .tmap import PAPERS, localize, resolve_settings

if TYPE_CHECKING:  # pragma: no cover
    from tom_harness import RunContext


class LocalizerIntervention(Intervention):
    """Lesion the units a functional localizer selects (or a matched random control)."""

    name = "localizer"
    kind = "activations"
    description = (
        "Contrast localizer (ToM / language / multiple demand): Welch t per residual unit, "
        "lesion the top/bottom/both/middle/random pct% of units at every position"
    )
    version = "1"
    params = (
        Param("network", "str", "tom", "localizer contrast: tom (false belief > photo), tom_ext "
              "(extended set), pain (emotional > physical pain), lang (sentences > non-words), "
              "md (hard > easy arithmetic)", choices=NETWORKS),
        Param("pct", "float", 1.0, "percentage of all units (layers x hidden) to lesion", minimum=0, maximum=100),
        Param("select", "str", "top", "top t, bottom (most negative) t, both tails (|t|), middle "
              "(t nearest the mean) or random units", choices=SELECTIONS),
        Param("seeds", "int", 0, "seed of the random draw (select=random); a range gives one row per draw",
              replicate=True, replicate_when=("select", "random"), minimum=0),
        Param("stat", "str", "abs", "t on absolute activations (both papers' original method) or on "
              "signed ones (ToMechanisms' revised method)", choices=STATS),
        Param("pooling", "str", "auto", "token pooling: auto (the chosen paper's), mean, "
              "mean_nofirst (drop the first token) or last", choices=("auto",) + POOLINGS),
        Param("ablation", "str", "zero", "write zeros (papers) or each unit's mean activation over "
              "the localizer stimuli", choices=("zero", "mean")),
        Param("paper", "str", "tomechanisms", "protocol that pooling=auto follows: tomechanisms "
              "(mean everywhere) or alkhamissi (last token and 12-token cut for lang)", choices=PAPERS),
        Param("random_pool", "str", "complement", "random units drawn outside the top set "
              "(complement) or from all units (all, as ToMechanisms' final drivers)", choices=RANDOM_POOLS),
        Param("batch_size", "int", 8, "stimuli per forward pass while localizing", minimum=1),
        Param("wording", "str", "paper", "ToM stimuli text: paper (the source code's instruction and "
              "whitespace) or harness (our earlier rewording; see docs/localizer.md)", choices=WORDINGS),
    )

    def __init__(self, **values: Any) -> None:
        super().__init__(**values)
        self._mask: torch.Tensor | None = None
        self._fill: torch.Tensor | None = None
        self._token = f"localizer-{id(self):x}"
        self._installed = False

    def settings(self):
        return resolve_settings(self.values["network"], self.values["stat"], self.values["pooling"],
                                self.values["paper"], self.values["wording"])

    def prepare(self, ctx: "RunContext") -> None:
        start = time.perf_counter()
        settings = self.settings()
        tmap = localize(ctx, settings, batch_size=int(self.values["batch_size"]))
        mode = self.values["select"]
        mask = select_units(tmap.t, float(self.values["pct"]), mode, int(self.values["seeds"]),
                            self.values["random_pool"])
        ablation = self.values["ablation"]
        self._mask = mask
        self._fill = torch.zeros_like(tmap.t) if ablation == "zero" else tmap.tensors["mean"].clone()
        per_layer = mask.sum(1).tolist()
        top = select_units(tmap.t, float(self.values["pct"]), "top")
        t = tmap.t
        self.metadata = {
            "network": settings.network, "stat": settings.stat, "pooling": settings.pooling,
            "max_tokens": settings.max_tokens, "ablation": ablation,
            "n_positive": len(tmap.stimuli.positive), "n_negative": len(tmap.stimuli.negative),
            "layers": int(t.shape[0]), "hidden_size": int(t.shape[1]),
            "units_total": int(t.numel()), "units_requested": unit_count(t, float(self.values["pct"])),
            "units_selected": int(mask.sum()), "units_per_layer": [int(c) for c in per_layer],
            "overlap_with_top": int((mask & top).sum()),
            "units_nan_t": int(torch.isnan(t).sum()),
            "units_q_below_0.05": int((tmap.tensors["q"] < 0.05).sum()),
            "selected_t_mean": float(t[mask].mean()) if mask.any() else None,
            "tmap_key": tmap.key, "tmap_cache": tmap.source,
            "tmap_cache_hit": tmap.source != "computed",
            "localize_seconds": round(time.perf_counter() - start, 3),
        }
        if ctx.output_dir is not None:
            export = export_tmap(ctx.output_dir, tmap, {**settings.__dict__, "model": ctx.handle.name})
            self.metadata["tmap_file"] = str(export.relative_to(ctx.output_dir))

    def apply(self, ctx: "RunContext") -> None:
        if self._mask is None:
            self.prepare(ctx)
        if self._installed:
            return
        counts = ctx.handle.apply_to_model(lesion.lesion_hooks(self._token, self._mask, self._fill))
        self._installed = True
        self.metadata["hooked_layers"] = int(counts[0]) if counts else 0

    def remove(self, ctx: "RunContext") -> None:
        if self._installed:
            ctx.handle.apply_to_model(surgery.RemoveStreamHooks(self._token))
            self._installed = False


@hookimpl
def register_interventions(register):
    register(LocalizerIntervention)


@hookimpl
def register_report_writers(register):
    register("localizer", write_reports)
