"""``tom-harness`` command line: run, list, table, lm-eval, data.

Flags follow lm-eval's (``--model --model_args --tasks --limit --output_path --log_samples``...).
Usage, config, data and plugin errors exit with status 2 and one message (no traceback unless
``--debug``); a failed restore check exits 3 (see ``errors.py`` for every code).

To add a subcommand: a ``sub.add_parser`` block in :func:`build_parser` and a ``cmd_<name>``
function registered in :data:`COMMANDS`; raise ``UsageError`` for anything the user got wrong.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any, Sequence

from . import __version__
from .errors import EXIT_INTERRUPTED, EXIT_USAGE, UsageError, report_error
from .progress import setup_terminal

log = logging.getLogger("tom_harness")


def _add_run_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", help="matrix YAML whose keys are these flags' names; flags override it")
    p.add_argument("--model", help="backend: hf (default), vllm, or one a plugin registers (`tom-harness list models`)")
    p.add_argument("--model_args", help="k=v,k2=v2; pretrained=<alias|path|hub id> (default smollm2-135m)")
    p.add_argument("--tasks", "-t", help="comma-separated task or group names (see `tom-harness list`)")
    p.add_argument("--interventions", "-i", nargs="+", metavar="SPEC",
                   help="space-separated specs name[:key=value,...]; ranges a:b[:c] expand to rows (default: none)")
    p.add_argument("--batch_size", help="requests per forward pass (int or auto)")
    p.add_argument("--device", help="cpu, cuda, cuda:0, mps (default: cuda if available, else cpu)")
    p.add_argument("--limit", help="documents per task (int), or a fraction < 1")
    p.add_argument("--seed", help="seed for python, numpy, torch and few-shot sampling (default 0)")
    p.add_argument("--gen_kwargs", help="generation overrides, k=v,k2=v2")
    p.add_argument("--repeats", help="ask every generation request N times (with sampling gen_kwargs); "
                   "tables show the mean, the majority vote and the spread across repeats")
    p.add_argument("--num_fewshot", help="few-shot examples per prompt")
    p.add_argument("--apply_chat_template", action="store_true", default=None, help="use the tokenizer's chat template")
    p.add_argument("--system_instruction", help="system prompt added to every request")
    p.add_argument("--bootstrap_iters", help="bootstrap resamples for stderr of non-mean metrics (default 1000)")
    p.add_argument("--output_path", "-o", help="output directory (default: ./tom_harness_out)")
    p.add_argument("--log_samples", action="store_true", help="write per-item outputs beside each cell")
    p.add_argument("--include_path", action="append", help="extra folder of lm-eval YAML tasks (repeatable)")
    p.add_argument("--data_dir", help="benchmark data folder (default: $TOM_HARNESS_DATA, then the user data dir)")
    p.add_argument("--cache_dir", help="artifact cache folder (default: $TOM_HARNESS_CACHE or ~/.cache/tom_harness)")
    p.add_argument("--shard", help="run only shard K of N of the cells, e.g. 2/4 (merge with `tom-harness table`)")
    p.add_argument("--overwrite", action="store_true", help="replace results of a different matrix in --output_path")
    p.add_argument("--max_rows", type=int, default=None,
                   help="most intervention rows the specs may expand to (default 1000)")
    p.add_argument("--lock_wait", type=float, default=0.0, metavar="SECONDS",
                   help="wait this long for another run using --output_path to finish (default: exit 2 at once)")
    p.add_argument("--allow_config_plugins", action="store_true",
                   help="let the --config YAML's plugins: key load code (off: plugins come from --plugins only)")
    p.add_argument("--no_progress", action="store_true", help="hide progress bars")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tom-harness",
        description="Score Theory-of-Mind interventions on lm-eval tasks, every intervention on every task.",
    )
    parser.add_argument("--version", action="version", version=f"tom-harness {__version__}")
    parser.add_argument("--plugins", action="append", default=[], metavar="MODULE",
                        help="load a plugin from a module path or .py file (repeatable)")
    parser.add_argument("--verbosity", default="WARNING", help="log level (DEBUG, INFO, WARNING)")
    _add_debug_flags(parser, False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run an intervention x task matrix")
    _add_run_args(run)
    prompts = sub.add_parser("prompts", help="dry run: write each document's exact prompt per row and task "
                             "(JSONL under --output_path/<row>/<task>.jsonl), without evaluating")
    _add_run_args(prompts)

    ls = sub.add_parser("list", help="list plugins, interventions (with parameters), tasks and model aliases")
    ls.add_argument("what", nargs="?", default="all", choices=["all", "plugins", "interventions", "tasks", "models"])
    ls.add_argument("--include_path", action="append", help="extra folder of lm-eval YAML tasks")
    ls.add_argument("--lm_eval_tasks", action="store_true", help="also list lm-eval's own tasks")

    table = sub.add_parser("table", help="rebuild (and merge) leaderboard tables from cell files")
    table.add_argument("output_dirs", nargs="+", help="one or more output directories (shards are merged)")
    table.add_argument("--dest", help="where to write the tables (default: the first directory)")
    table.add_argument("--force", action="store_true", help="merge output directories even if their matrices differ")

    cmp_ = sub.add_parser("compare", help="per-item agreement (%% agreement, Cohen's kappa) between two rows or two runs",
                          description="Per-item agreement on the parsed answer and on correctness. Under --repeats an "
                          "item's answer is its most frequent parsed answer (ties: the earliest repeat's) and its "
                          "correctness is the majority of its repeats (<metric>_majority).")
    cmp_.add_argument("output_dirs", nargs="+", metavar="OUT_DIR", help="one run (with two --rows) or two runs (same rows)")
    cmp_.add_argument("--rows", nargs="+", help="row labels, e.g. none sbs (two runs: default every shared row)")
    cmp_.add_argument("--tasks", nargs="+", help="tasks to compare (default: every task both sides ran)")
    cmp_.add_argument("--dest", help="where to write compare.csv/.md (default: the first directory)")
    exp = sub.add_parser("export", help="write a finished run's prompts and answers as a fine-tuning set (JSONL)")
    exp.add_argument("output_dir", help="output directory of a run made with --log_samples")
    exp.add_argument("--rows", nargs="+", required=True, metavar="ROW", help="row labels (or ids) to export")
    exp.add_argument("--tasks", required=True, help="comma-separated tasks to export")
    exp.add_argument("--format", default="sft-jsonl", help="sft-jsonl: prompt/completion, or chat messages")
    exp.add_argument("--correct_only", action="store_true", help="only answers the task scored as correct")
    exp.add_argument("--metric", help="the 0/1 metric that decides correctness (default: the task's headline)")
    exp.add_argument("--dest", help="JSONL file to write (default: OUT/export/<row>.sft.jsonl)")

    lme = sub.add_parser("lm-eval", help="run lm-eval's own CLI with the `tomh` model type registered",
                         add_help=False)
    lme.add_argument("rest", nargs=argparse.REMAINDER)

    data = sub.add_parser("data", help="show or fetch benchmark data")
    data_sub = data.add_subparsers(dest="data_command", metavar="ACTION")
    dl = data_sub.add_parser("list", help="which datasets are present, and where")
    dl.add_argument("--data_dir")
    dl.add_argument("--verify", action="store_true", help="also check every file's sha256")
    df = data_sub.add_parser("fetch", help="download datasets from their public sources (sha256-checked)")
    df.add_argument("names", nargs="+", help="dataset names, or 'all'")
    df.add_argument("--data_dir")
    df.add_argument("--base_url", help="mirror to fetch from instead of the public sources")
    df.add_argument("--quiet", action="store_true", help="no progress bars")
    for p in (run, prompts, ls, table, cmp_, exp, data, dl, df):
        _add_debug_flags(p, argparse.SUPPRESS)
    return parser


def _add_debug_flags(p: argparse.ArgumentParser, default: Any) -> None:
    """``--verbose`` / ``--debug`` anywhere on the line: show tracebacks of handled errors."""
    p.add_argument("--verbose", action="store_true", default=default,
                   help="show everything: lm-eval's bars and repeated warnings, tracebacks of errors")
    p.add_argument("--debug", action="store_true", default=default, help="same as --verbose")


# -- commands ------------------------------------------------------------------------------
def _matrix_from_args(args: argparse.Namespace) -> tuple[Any, Any, str, bool]:
    """The matrix spec, plugin host, output path and log_samples of a run-style command line
    (``run`` and ``prompts`` share it)."""
    from .datadir import set_data_dir
    from .matrix import build_spec, load_config
    from .plugin_host import get_host

    from .validate import check_bool, check_output_dir

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
    log_samples = args.log_samples or check_bool(config.pop("log_samples", False), "config key 'log_samples'")
    plugins = list(args.plugins) + list(config.pop("plugins", None) or [])
    spec = build_spec(config, {**overrides, "plugins": plugins or None})
    check_output_dir(Path(output))
    set_data_dir(data_dir)
    host = get_host(plugins)
    _report_failures(host)
    return spec, host, output, log_samples


def cmd_run(args: argparse.Namespace) -> int:
    from .cache import ArtifactCache
    from .cells import OutputDir
    from .leaderboard import terminal, write_leaderboard
    from .runner import MatrixRunner

    spec, host, output, log_samples = _matrix_from_args(args)
    runner = MatrixRunner(
        spec, host, Path(output), shard=args.shard, overwrite=args.overwrite, log_samples=log_samples,
        progress=not args.no_progress, cache=ArtifactCache(args.cache_dir) if args.cache_dir else None,
        lock_wait_s=args.lock_wait, **({"max_rows": args.max_rows} if args.max_rows else {}),
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
    from .cache import ArtifactCache
    from .dryrun import dry_run

    spec, host, output, _ = _matrix_from_args(args)
    summary = dry_run(spec, host, Path(output), ArtifactCache(args.cache_dir) if args.cache_dir else None)
    for w in summary["written"]:
        print(f"{w['row']} x {w['task']}: {w['prompts']} prompts -> {w['file']}")
        for note in w.get("warnings", []):
            print(f"  warning: {note}")
    for row, task in summary["not_applicable"]:
        print(f"{row} x {task}: n/a")
    print(f"model {'loaded' if summary['model_loaded'] else 'not loaded'}, {summary['model_calls']} model call(s); "
          f"wall {summary['wall_s']} s, cpu {summary['cpu_s']} s")
    return 0


def _report_failures(host: Any) -> None:
    for f in host.failures:
        print(f"warning: plugin {f.name!r} failed to load and was skipped: {f.error}", file=sys.stderr)


def cmd_list(args: argparse.Namespace) -> int:
    from .plugin_host import get_host
    from .tasks import TaskCatalog

    host = get_host(args.plugins)
    what = args.what
    if what in ("all", "plugins"):
        print("Plugins:")
        for name in host.plugin_names():
            print(f"  {name}")
        for f in host.failures:
            print(f"  {f.name}  [FAILED: {f.error}]")
    if what in ("all", "interventions"):
        print("Interventions:")
        for name in sorted(host.interventions):
            cls = host.interventions[name]
            print(f"  {name}  ({cls.kind}; from {host.intervention_plugin.get(name, '?')})  {cls.description}")
            if cls.requirements_text():
                print(f"      {cls.requirements_text()}")
            for p in cls.params:
                flag = " [replicate]" if p.replicate else ""
                print(f"      {p.name}: {p.describe_type()} = {p.default!r}{flag}  {p.help}")
    if what in ("all", "models"):
        print("Model backends (--model):")
        for name, backend in sorted(host.backends.items()):
            print(f"  {name}  {backend.description}  (from {backend.plugin})")
        print("Model aliases (--model_args pretrained=...):")
        for name, alias in sorted(host.model_aliases.items()):
            print(f"  {name}  {alias.description}  (from {alias.plugin})")
    if what in ("all", "tasks"):
        catalog = TaskCatalog.from_sources(host.task_sources, args.include_path or [])
        catalog.with_defaults = bool(args.lm_eval_tasks)
        tm = catalog.manager
        groups = set(tm.all_groups)
        print("Tasks (groups marked *):")
        for name in catalog.names():
            if name.startswith("_"):
                continue
            print(f"  {name}{' *' if name in groups else ''}")
    return 0


def cmd_table(args: argparse.Namespace) -> int:
    from .leaderboard import terminal, write_leaderboard
    from .plugin_host import get_host

    from .cells import OutputDir, check_mergeable
    from .validate import check_output_dir

    dirs = [Path(d) for d in args.output_dirs]
    for d in dirs:
        if not (d / "cells").is_dir():
            raise UsageError(f"{d} has no cells/ folder: not a tom-harness output directory")
    check_mergeable(dirs, force=args.force)
    dest = check_output_dir(Path(args.dest) if args.dest else dirs[0], "--dest")
    host = get_host(args.plugins)
    table, pivot, files = write_leaderboard(dirs, dest, host.report_writers)
    OutputDir(dest).record(files)
    print(terminal(pivot, table))
    print("wrote: " + ", ".join(str(f) for f in files))
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from .compare import run_compare, summary_markdown

    from .cells import OutputDir
    from .validate import check_output_dir

    tasks = [t for arg in args.tasks or [] for t in arg.split(",") if t] or None
    dirs = [Path(d) for d in args.output_dirs]
    dest = Path(args.dest) if args.dest else dirs[0]
    frame, files = run_compare(dirs, args.rows, tasks, dest, check_output_dir)
    if dest.resolve() in {d.resolve() for d in dirs}:  # so --overwrite clears them with the run
        OutputDir(dest).record(files)
    print(summary_markdown(frame))
    print("wrote: " + ", ".join(str(f) for f in files))
    return 0


def cmd_lm_eval(args: argparse.Namespace) -> int:
    """Hand over to lm-eval's CLI after registering the ``tomh`` model type."""
    from . import tomh_model  # noqa: F401  (registers "tomh" with lm-eval)
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


def cmd_data(args: argparse.Namespace) -> int:
    from . import datasets as ds

    if args.data_command == "list":
        return ds.cli_data_list(args)
    if args.data_command == "fetch":
        from .validate import check_url

        check_url(args.base_url)
        return ds.cli_data_fetch(args)
    raise UsageError("usage: tom-harness data {list,fetch} ...")


def cmd_export(args: argparse.Namespace) -> int:
    from .export import export

    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    path, n = export(Path(args.output_dir), args.rows, tasks, Path(args.dest) if args.dest else None,
                     args.format, args.correct_only, args.metric)
    print(f"wrote {n} example(s) to {path}")
    return 0


COMMANDS = {"run": cmd_run, "prompts": cmd_prompts, "list": cmd_list, "table": cmd_table, "compare": cmd_compare,
            "export": cmd_export, "lm-eval": cmd_lm_eval, "data": cmd_data}


def _quiet_logs(level: str) -> None:
    lvl = getattr(logging, str(level).upper(), None)
    if not isinstance(lvl, int):
        raise UsageError(f"--verbosity: expected DEBUG, INFO, WARNING or ERROR, got {level!r}")
    logging.basicConfig(level=lvl, format="%(levelname)s %(name)s: %(message)s")
    for name in ("lm_eval", "lm-eval", "transformers", "datasets", "accelerate", "tom_harness"):
        logging.getLogger(name).setLevel(lvl if name == "tom_harness" else max(lvl, logging.WARNING))
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        if argv and argv[0] == "lm-eval":  # everything after it belongs to lm-eval untouched
            args = argparse.Namespace(command="lm-eval", rest=argv[1:], plugins=[], verbosity="WARNING")
        else:
            args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help/--version (0) or a usage error (2, message printed)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if not args.command:
        parser.print_help()
        return EXIT_USAGE
    debug = bool(getattr(args, "debug", False) or getattr(args, "verbose", False))
    try:
        _quiet_logs(args.verbosity)
        setup_terminal(debug)  # progress.py: one bar over cells, lm-eval's repeats summarised
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print("\ntom-harness: interrupted; finished cells are saved, rerun the same command to resume.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - the one place errors become exit codes
        return report_error(exc, debug)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
