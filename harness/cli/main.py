"""``tom-harness`` command line: run, prompts, list, table, compare, export, train, publish, lm-eval, data.

This module is the entry point (``tom_harness.cli.main:main``): it parses (``cli_parser.py``), sets up
logging and the quiet terminal, dispatches to the command, and turns errors into exit codes.
Usage, config, data and plugin errors exit with status 2 and one message (no traceback unless
``--debug``); a failed restore check exits 3 (see ``errors.py`` for every code); an internal error
exits 1 and leaves its traceback in a file it names (:func:`trace_folders`). The commands:
``cli_run.py`` (run, prompts, lm-eval), ``cli_results.py`` (table, compare, export),
``cli_catalog.py`` (list, data).

To add a subcommand: a ``sub.add_parser`` block in :func:`cli_parser.build_parser` and a
``cmd_<name>`` function registered in :data:`COMMANDS`; raise ``UsageError`` for anything the user
got wrong.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Sequence

from tom_harness.cli.catalog_cmd import cmd_data, cmd_list
from tom_harness.cli.replay_cmd import cmd_replay_from_counts
from tom_harness.cli.parser import build_parser
from tom_harness.cli.publish_cmd import cmd_publish
from tom_harness.cli.results_cmd import cmd_compare, cmd_export, cmd_table
from tom_harness.cli.run_cmd import cmd_lm_eval, cmd_prompts, cmd_run
from tom_harness.cli.train_cmd import cmd_train
from tom_harness.api.errors import EXIT_INTERRUPTED, EXIT_USAGE, UsageError, report_error
from tom_harness.lmeval.progress import setup_terminal


COMMANDS = {"run": cmd_run, "prompts": cmd_prompts, "list": cmd_list, "table": cmd_table, "compare": cmd_compare,
            "export": cmd_export, "lm-eval": cmd_lm_eval, "data": cmd_data, "train": cmd_train,
            "replay-from-counts": cmd_replay_from_counts, "publish": cmd_publish}


def _quiet_logs(level: str) -> None:
    lvl = getattr(logging, str(level).upper(), None)
    if not isinstance(lvl, int):
        raise UsageError(f"--verbosity: expected DEBUG, INFO, WARNING or ERROR, got {level!r}")
    logging.basicConfig(level=lvl, format="%(levelname)s %(name)s: %(message)s")
    for name in ("lm_eval", "lm-eval", "transformers", "datasets", "accelerate", "tom_harness"):
        logging.getLogger(name).setLevel(lvl if name == "tom_harness" else max(lvl, logging.WARNING))
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def trace_folders(args: argparse.Namespace) -> list[Path]:
    """Where an internal error's traceback is written: the command's output directory when it
    exists (``run``/``prompts``: the resolved output path; ``table``/``compare``/``export``:
    the directory read), else ``errors/`` under the cache directory."""
    outs = [getattr(args, "resolved_output", None), getattr(args, "output_path", None), getattr(args, "output_dir", None),
            *(getattr(args, "output_dirs", None) or [])[:1]]
    found = [Path(o) for o in outs if o and Path(o).is_dir()]
    if getattr(args, "cache_dir", None):
        return [*found, Path(args.cache_dir) / "errors"]
    try:
        from tom_harness.cache.artifacts import default_cache_root

        return [*found, default_cache_root() / "errors"]
    except Exception:  # noqa: BLE001 - reporting an error must not raise another
        return found


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
        internal = not isinstance(getattr(exc, "exit_code", None), int)
        return report_error(exc, debug, trace_folders=trace_folders(args) if internal else ())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
