"""The commands that evaluate a matrix: ``run``, ``prompts`` (its dry run) and ``lm-eval``
(lm-eval's own CLI with the ``tomh`` model type). ``run`` and ``prompts`` read the same command
line and matrix YAML through :func:`matrix_from_args`."""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from tom_harness.api.errors import UsageError


def matrix_from_args(args: argparse.Namespace) -> tuple[Any, Any, str, bool]:
    """The matrix spec, plugin host, output path and log_samples of a run-style command line
    (``run`` and ``prompts`` share it)."""
    from tom_harness.data.roots import set_data_dir
    from tom_harness.spec.matrix import build_spec, load_config
    from tom_harness.host.plugin_host import get_host

    from tom_harness.spec.option_checks import check_bool, check_output_dir

    config = load_config(args.config) if args.config else {}
    if "plugins" in config and not args.allow_config_plugins:
        raise UsageError(f"--config {args.config}: the plugins: key loads code; pass --allow_config_plugins "
                         "to allow it, or give the plugins with --plugins")
    for key in ("data_dir", "output_path"):
        if config.get(key) is not None and not isinstance(config[key], str):
            raise UsageError(f"config key {key!r}: expected a path, got {config[key]!r}")
    overrides = {
        k: getattr(args, k) for k in (
            "model", "model_args", "tasks", "interventions", "limit", "seed", "batch_size", "device",
            "gen_kwargs", "apply_chat_template", "system_instruction", "num_fewshot", "bootstrap_iters",
            "include_path", "repeats",
        )
    }
    data_dir = args.data_dir or config.pop("data_dir", None)
    output = args.output_path or config.pop("output_path", None) or "tom_harness_out"
    config.pop("output_path", None)
    args.resolved_output = output  # where an internal error leaves its traceback (cli/main.py)
    log_samples = args.log_samples or check_bool(config.pop("log_samples", False), "config key 'log_samples'")
    plugins = list(args.plugins) + list(config.pop("plugins", None) or [])
    spec = build_spec(config, {**overrides, "plugins": plugins or None})
    check_output_dir(Path(output))
    set_data_dir(data_dir)
    host = get_host(plugins)
    report_failures(host)
    return spec, host, output, log_samples


def cmd_run(args: argparse.Namespace) -> int:
    from tom_harness.results.outdir import OutputDir

    spec, host, output, log_samples = matrix_from_args(args)
    started = time.time()
    try:
        return _run_matrix(args, spec, host, output, log_samples)
    finally:  # journal what plugins wrote too (exported t-maps...), so --overwrite clears it
        try:
            OutputDir(output).record_since(started)
        except OSError as exc:  # never hide the run's own outcome behind a journal error
            print(f"warning: could not journal the files written to {output}: {exc}", file=sys.stderr)


def _run_matrix(args: argparse.Namespace, spec: Any, host: Any, output: str, log_samples: bool) -> int:
    from tom_harness.cache.artifacts import ArtifactCache
    from tom_harness.results.outdir import OutputDir
    from tom_harness.results.leaderboard import terminal, write_leaderboard
    from tom_harness.run.executors import make_executor
    from tom_harness.run.runner import MatrixRunner

    executor = make_executor(args.executor, workers=args.workers, address=args.ray_address, worker_cpus=args.worker_cpus,
                             worker_gpus=args.worker_gpus, tensor_parallel=args.tensor_parallel)
    runner = MatrixRunner(
        spec, host, Path(output), shard=args.shard, overwrite=args.overwrite, log_samples=log_samples,
        progress=not args.no_progress, cache=ArtifactCache(args.cache_dir) if args.cache_dir else None,
        lock_wait_s=args.lock_wait, executor=executor, **({"max_rows": args.max_rows} if args.max_rows else {}),
    )
    summary = runner.run()
    table, pivot, files = write_leaderboard([Path(output)], Path(output), host.report_writers)
    OutputDir(output).record(files)
    print(f"\n{len(summary.ran)} cell(s) run, {len(summary.skipped)} already done, "
          f"{len(summary.not_applicable)} n/a. Output: {Path(output).resolve()}")
    print(terminal(pivot, table))
    print("wrote: " + ", ".join(str(f) for f in files))
    return 0


def cmd_prompts(args: argparse.Namespace) -> int:
    """Dry run: the exact prompt of every document per row and task, as JSONL, no evaluation."""
    from tom_harness.cache.artifacts import ArtifactCache
    from tom_harness.run.dryrun import dry_run

    spec, host, output, _ = matrix_from_args(args)
    summary = dry_run(spec, host, Path(output), ArtifactCache(args.cache_dir) if args.cache_dir else None,
                      stub=getattr(args, "stub_answers", None))
    for w in summary["written"]:
        print(f"{w['row']} x {w['task']}: {w['prompts']} prompts -> {w['file']}")
        for note in w.get("warnings", []):
            print(f"  warning: {note}")
    for row, task in summary["not_applicable"]:
        print(f"{row} x {task}: n/a")
    print(f"model {'loaded' if summary['model_loaded'] else 'not loaded'}, {summary['model_calls']} model call(s); "
          f"wall {summary['wall_s']} s, cpu {summary['cpu_s']} s")
    return 0


def report_failures(host: Any) -> None:
    for f in host.failures:
        print(f"warning: plugin {f.name!r} failed to load and was skipped: {f.error}", file=sys.stderr)


def cmd_lm_eval(args: argparse.Namespace) -> int:
    """Hand over to lm-eval's CLI after registering the ``tomh`` model type."""
    from tom_harness.run import tomh_model  # noqa: F401  (registers "tomh" with lm-eval)
    from lm_eval.__main__ import cli_evaluate

    for ref in args.plugins:
        os.environ["TOM_HARNESS_PLUGINS"] = ",".join(filter(None, [os.environ.get("TOM_HARNESS_PLUGINS"), ref]))
    rest = list(args.rest)
    include = [rest[i + 1] for i, a in enumerate(rest[:-1]) if a == "--include_path"]
    include += [a.split("=", 1)[1] for a in rest if a.startswith("--include_path=")]
    if include:  # so `tomh` can tell task families apart on the user's own task folders
        os.environ["TOM_HARNESS_INCLUDE_PATH"] = os.pathsep.join(include)
    sys.argv = ["lm-eval", *rest]
    cli_evaluate()
    return 0
