"""The commands that read finished runs: ``table`` (rebuild and merge leaderboards from cell
files), ``compare`` (per-item agreement between rows or runs), ``export`` (answers as a
fine-tuning set)."""
from __future__ import annotations

import argparse
from pathlib import Path

from tom_harness.api.errors import UsageError


def cmd_table(args: argparse.Namespace) -> int:
    from tom_harness.results.leaderboard import terminal, write_leaderboard
    from tom_harness.host.plugin_host import get_host

    from tom_harness.results.outdir import OutputDir, check_mergeable
    from tom_harness.spec.option_checks import check_output_dir

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
    from tom_harness.results.compare import run_compare, summary_markdown

    from tom_harness.results.outdir import OutputDir
    from tom_harness.spec.option_checks import check_output_dir

    tasks = [t for arg in args.tasks or [] for t in arg.split(",") if t] or None
    dirs = [Path(d) for d in args.output_dirs]
    dest = Path(args.dest) if args.dest else dirs[0]
    if args.base or args.tuned or args.teacher:
        from tom_harness.cli.replay_cmd import compare_transfer

        return compare_transfer(args, dirs, tasks, dest)
    frame, files = run_compare(dirs, args.rows, tasks, dest, check_output_dir)
    if dest.resolve() in {d.resolve() for d in dirs}:  # so --overwrite clears them with the run
        OutputDir(dest).record(files)
    print(summary_markdown(frame))
    print("wrote: " + ", ".join(str(f) for f in files))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from tom_harness.results.export import export

    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    path, n = export(Path(args.output_dir), args.rows, tasks, Path(args.dest) if args.dest else None,
                     args.format, args.correct_only, args.metric)
    print(f"wrote {n} example(s) to {path}")
    return 0
