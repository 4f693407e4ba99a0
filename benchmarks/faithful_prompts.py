"""Share of items whose faithful prompt (every turn, and the answer budget) equals the one the
reimplementation of the original builds (tests/faithful_reference.py), per method x dataset.

    python benchmarks/faithful_prompts.py [--seeds 12 42 96 2012 2024]

The model-calling stages answer from the recorded stub model both sides call. ``vanilla`` is the
``*_paper`` task's prompt; ``vanilla (default task)`` the default task's own prompt, for scale.
"""
from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.faithful_compare import DATASETS, METHODS, compare, reference_prompts, task_docs  # noqa: E402
from tom_harness.data.roots import data_dir  # noqa: E402


def default_task_share(dataset: str, seed: int, root: Path) -> tuple[int, int]:
    """Items whose default-task prompt equals the original's vanilla prompt."""
    utils = importlib.import_module(f"tom_harness.task_yamls.{dataset}.utils")
    theirs, _ = reference_prompts("vanilla", dataset, seed, root)
    docs = task_docs(dataset, seed)
    same = sum(utils.doc_to_text(d) == theirs[(d["story_id"], d["q_index"])][0][0]["content"] for d in docs)
    return same, len(docs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[12])
    args = ap.parse_args()
    root = data_dir()
    t0, c0 = time.perf_counter(), time.process_time()
    print(f"{'method':<24}" + "".join(f"{d:>22}" for d in DATASETS))
    for seed in args.seeds:
        for method in METHODS:
            cells = []
            for ds in DATASETS:
                eq, n, _ = compare(method, ds, seed, root)
                cells.append(f"{eq}/{n} ({100 * eq / n:.1f} %)")
            print(f"{method + f' s{seed}':<24}" + "".join(f"{c:>22}" for c in cells))
        cells = [default_task_share(ds, seed, root) for ds in DATASETS]
        print(f"{'vanilla (default task)' + f' s{seed}':<24}" + "".join(f"{f'{a}/{b} ({100 * a / b:.1f} %)':>22}" for a, b in cells))
    print(f"wall {time.perf_counter() - t0:.1f} s, cpu {time.process_time() - c0:.1f} s")


if __name__ == "__main__":
    main()
