"""Benchmark: where the cells run. Three ratios from one process run, on CPU:

1. **serial vs Ray**: the same matrix (SmolLM2-135M, 4 prompt rows on tomi_seed12, 16 new
   tokens at most) run serially (torch on all cores) and by the Ray executor with 2 workers of one
   torch thread each; wall and CPU time of each arm (CPU includes Ray's worker processes), the
   arms alternated ``--repeats`` times. Both include loading the model (the workers load theirs in
   parallel). The cells must agree.
2. **Ray's per-cell dispatch overhead**: one worker, many cheap cells (a random toy Llama on a
   small log-likelihood task): (driver time from the worker's first answer to the last cell) minus
   (the worker's own time inside its cells), per cell, beside the serial time of such a cell.
3. **prepare work saved by row-bundle shards** on a grad_mask sweep: the number of row prepares
   N shards run when cells are dealt every N-th (the old ``--shard``) and when rows are dealt
   (the new one), counted from the planner, times the measured seconds of one grad_mask prepare
   on SmolLM2 (its Fisher maps cached: the per-row mask work every repeated prepare redoes) and of
   the first, cold prepare (maps computed: what each shard without a shared cache pays once).

    HF_HUB_OFFLINE=1 TOM_HARNESS_DATA=../shared/data python benchmarks/executors.py --limit 2
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _measure import alternate, load_average, load_verdict, spread, timed  # noqa: E402


def _spec(rows: list[str], tasks: list[str], limit: int, **extra):
    from tom_harness.spec.matrix import build_spec

    return build_spec({}, {"interventions": rows, "tasks": ",".join(tasks), "limit": limit, "device": "cpu", **extra})


def _run(spec, tmp: Path, executor=None):
    """One fresh run of ``spec`` (new output folder and artifact cache): (summary, output folder)."""
    from tom_harness.cache.artifacts import ArtifactCache, clear_memory
    from tom_harness.host.plugin_host import get_host
    from tom_harness.run.runner import MatrixRunner

    clear_memory()
    out = Path(tempfile.mkdtemp(dir=tmp))
    runner = MatrixRunner(spec, get_host(), out / "out", progress=False, cache=ArtifactCache(out / "cache"),
                          executor=executor)
    return runner.run(), out / "out"


def _headline(out: Path) -> dict:
    from tom_harness.results.outdir import iter_cells

    return {(c["intervention"]["label"], c["task"]): c["results"]["results"] for c in iter_cells([out]) if c["status"] == "ok"}


def serial_vs_ray(tmp: Path, limit: int, repeats: int) -> None:
    import torch

    from tom_harness.run.executors.ray_executor import RayExecutor, RayOptions

    spec = _spec(["none", "sbs", "sbs:text=Think about what each person saw.", "sbs:text=Who knows what?"],
                 ["tomi_seed12"], limit, gen_kwargs="max_gen_toks=16")
    outs: dict[str, list[Path]] = {"serial": [], "ray": []}
    worker_cpu: list[float] = []  # the actors' own CPU (they are gone when the arm's clock stops)

    def serial():
        torch.set_num_threads(os.cpu_count() or 1)
        outs["serial"].append(_run(spec, tmp)[1])

    def ray2():
        ex = RayExecutor(RayOptions(workers=2, worker_cpus=1))
        outs["ray"].append(_run(spec, tmp, ex)[1])
        worker_cpu.append(sum(s["cpu_s"] for s in ex.stats))

    arms = alternate({"serial": serial, "ray": ray2}, repeats)
    arms["ray"].cpu = [c + w for c, w in zip(arms["ray"].cpu, worker_cpu)]
    same = _headline(outs["serial"][0]) == _headline(outs["ray"][0])
    print(f"1. serial (torch {os.cpu_count()} threads): {spread(arms['serial'])}")
    print(f"   Ray, 2 workers x 1 thread:  {spread(arms['ray'])}")
    print(f"   ratio serial / Ray wall: {statistics.median(arms['serial'].wall) / statistics.median(arms['ray'].wall):.2f}; "
          f"CPU Ray / serial: {statistics.median(arms['ray'].cpu) / max(statistics.median(arms['serial'].cpu), 1e-9):.2f}; "
          f"cells equal: {same}")


def _question_task(folder: Path, texts: list[str]) -> str:
    """A two-choice log-likelihood task whose prompt holds a question (prompt rows edit after it)."""
    import json

    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "exec_bench.jsonl"
    data.write_text("".join(json.dumps({"narrative": t, "question": "Is the story consistent?", "choices": ["yes", "no"],
                                        "label": i % 2}) + "\n" for i, t in enumerate(texts)))
    (folder / "exec_bench.yaml").write_text(
        "task: exec_bench\ndataset_path: json\n"
        f"dataset_kwargs: {{data_files: {{test: {json.dumps(str(data))}}}}}\n"
        "test_split: test\noutput_type: multiple_choice\n"
        'doc_to_text: "{{narrative}}\\nQuestion: {{question}}\\nAnswer:"\n'
        'doc_to_choice: "{{choices}}"\ndoc_to_target: "{{label}}"\n'
        "metric_list:\n  - {metric: acc, aggregation: mean, higher_is_better: true}\n"
        "metadata: {version: 1.0, family: toy, unit: event, question_kind: choice, narrative_in_prompt: true}\n")
    return "exec_bench"


def dispatch_overhead(tmp: Path, cells: int) -> None:
    import torch

    from _synthetic import SHAPES, random_llama, story_texts, word_tokenizer
    from tom_harness.run.executors.ray_executor import RayExecutor, RayOptions

    texts = story_texts(8)
    tok = word_tokenizer(texts, SHAPES["toy"]["vocab_size"])
    model_dir = tmp / "toy_llama"
    random_llama("toy", "cpu", torch.float32, tok).save_pretrained(model_dir)
    tok.save_pretrained(model_dir)
    task = _question_task(tmp / "toy_task", texts)
    rows = [f"sbs:text=Hint {i}." for i in range(cells)]
    spec = _spec(rows, [task], 4, model_args=f"pretrained={model_dir}", include_path=[str(tmp / "toy_task")])
    wall, _, (summary, _) = timed(lambda: _run(spec, tmp))
    ex = RayExecutor(RayOptions(workers=1, worker_cpus=1))
    _run(spec, tmp, ex)
    span = ex.timing["done_s"] - ex.timing["first_ready_s"]
    busy = sum(s["busy_s"] for s in ex.stats)
    n = sum(s["cells"] for s in ex.stats)
    print(f"2. Ray dispatch overhead: {(span - busy) / n * 1000:.1f} ms per cell (n={n} cells; driver span "
          f"{span:.2f} s after the worker's first answer, worker inside cells {busy:.2f} s); serial run of the "
          f"same matrix {wall:.2f} s incl. model load, {len(summary.ran)} cells")


def prepare_savings(tmp: Path, shards: int, points: int) -> None:
    from tom_harness.api.context import RunContext
    from tom_harness.backends.caller import GenerationStore, ModelCaller
    from tom_harness.backends.loading import load
    from tom_harness.cache.artifacts import ArtifactCache
    from tom_harness.host.plugin_host import get_host
    from tom_harness.results.outdir import intervention_id
    from tom_harness.run.plan import Cell, expand_interventions, plan_cells

    host = get_host()
    step = 1e-5
    spec_text = f"grad_mask:m=0:{step * (points - 1):g}:{step:g},n_tom=4,n_generic=4"
    ivs = expand_interventions(host, [spec_text])
    tasks = ["tomi_seed12", "wikitext2_ppl", "hitom_gen"]
    cells = [Cell(iv, intervention_id(iv.label()), t, r) for r, iv in enumerate(ivs) for t in tasks]
    by_cell = sum(len({c.iv_id for i, c in enumerate(cells) if i % shards == k}) for k in range(shards))
    by_row = sum(len({c.iv_id for c in plan_cells(ivs, tasks, (k + 1, shards))}) for k in range(shards))
    shards_with_maps = {"cell": sum(1 for k in range(shards) if any(i % shards == k for i in range(len(cells)))),
                        "row": sum(1 for k in range(shards) if plan_cells(ivs, tasks, (k + 1, shards)))}
    handle = load(host, "hf", {"pretrained": "smollm2-135m"}, "cpu", 1)
    cache = ArtifactCache(tmp / "gm_cache")
    ctx = RunContext(handle=handle, cache=cache, caller=ModelCaller(handle.lm, GenerationStore(tmp / "g.sqlite"),
                     handle.fingerprint), show_progress=False)
    masked = [iv for iv in ivs if float(iv.values["m"]) > 0]  # m=0 needs no maps
    cold, cold_cpu, _ = timed(lambda: masked[0].prepare(ctx))
    warm = [timed(lambda iv=iv: iv.prepare(ctx)) for iv in masked[1:]]
    warm_s = statistics.median(w for w, _, _ in warm)
    print(f"3. grad_mask sweep: {points} rows x {len(tasks)} tasks on {shards} shards: row prepares "
          f"{by_cell} (cells dealt) vs {by_row} (rows dealt), saved {by_cell - by_row}; one prepare with the maps "
          f"cached {warm_s:.2f} s (median of {len(warm)}), the cold one (maps computed) {cold:.1f} s wall / "
          f"{cold_cpu:.1f} s CPU; shards that compute the maps without a shared cache: {shards_with_maps['cell']} "
          f"vs {shards_with_maps['row']}; work saved ~ {(by_cell - by_row) * warm_s:.1f} s of prepares")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--limit", type=int, default=2, help="documents per task in part 1")
    ap.add_argument("--repeats", type=int, default=1, help="alternations of the two arms in part 1")
    ap.add_argument("--cells", type=int, default=12, help="cheap cells in part 2")
    ap.add_argument("--shards", type=int, default=4)
    ap.add_argument("--points", type=int, default=6, help="grad_mask sweep points in part 3")
    ap.add_argument("--parts", default="1,2,3")
    args = ap.parse_args()
    import ray

    before = load_average()
    print(f"load before: {before}")
    t0 = time.perf_counter()
    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
    print(f"local Ray cluster started in {time.perf_counter() - t0:.1f} s (not in the arms)")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        parts = set(args.parts.split(","))
        if "1" in parts:
            serial_vs_ray(tmp, args.limit, args.repeats)
        if "2" in parts:
            dispatch_overhead(tmp, args.cells)
        ray.shutdown()
        if "3" in parts:
            prepare_savings(tmp, args.shards, args.points)
    after = load_average()
    print(f"load after: {after}; {load_verdict(before, after)}")


if __name__ == "__main__":
    main()
