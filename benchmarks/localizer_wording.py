"""How much the ToM localizer's stimulus wording moves the selected units (SmolLM2-135M).

Builds the t-map (Welch t on absolute activations, mean pooling: ToMechanisms' protocol) for the
ToM localizers with ``wording=paper`` (the source code's instruction and whitespace) and
``wording=harness`` (our earlier rewording), and reports the overlap of the top-pct % units.

    HF_HUB_OFFLINE=1 TOM_HARNESS_DATA=../shared/data nice python benchmarks/localizer_wording.py
"""
from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from tom_harness.model.activations import extract  # noqa: E402
from tom_harness.backends.loading import load_hf  # noqa: E402
from tom_harness.plugins.builtin import smollm2_resolve  # noqa: E402
from tom_harness.plugins.localizer.select import select_units  # noqa: E402
from tom_harness.plugins.localizer.tmap import compute_maps  # noqa: E402
from tom_harness.data.stimuli import load_stimuli  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--networks", default="tom,tom_ext")
    ap.add_argument("--pcts", default="0.5,1,2")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--select", default="top", help="top (largest t) or both (largest |t|)")
    args = ap.parse_args()
    wall, cpu = time.perf_counter(), time.process_time()
    handle = load_hf(smollm2_resolve(), "cpu", 8)
    for network in args.networks.split(","):
        maps = {}
        for wording in ("paper", "harness"):
            stimuli = load_stimuli(network, wording=wording)
            acts = extract(handle.model, handle.tokenizer, stimuli.texts, "mean", args.batch_size)
            maps[wording] = compute_maps(acts, len(stimuli.positive), "abs")["t"]
        for pct in (float(p) for p in args.pcts.split(",")):
            a, b = (select_units(maps[w], pct, args.select) for w in ("paper", "harness"))
            k = int(a.sum())
            same = int((a & b).sum())
            print(f"{network:8} {args.select} {pct:g}% (abs t): {k} units, {same} shared = {same / k:.1%} overlap, "
                  f"{1 - same / k:.1%} move")
    print(f"wall {time.perf_counter() - wall:.1f} s, cpu {time.process_time() - cpu:.1f} s")


if __name__ == "__main__":
    main()
