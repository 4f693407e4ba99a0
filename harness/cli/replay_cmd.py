"""``tom-harness replay-from-counts`` and ``compare --base/--tuned/--teacher``.

Lore et al. released per-scenario *counts* of C / D answers, not the answers themselves (their
per-sample pickles hold the out-of-distribution samples twice). The counts are all the share of C
needs, so each count becomes that many one-letter responses ("C", "D"; an answer that was
neither: an empty response, which the original parser counts as other) in a replay file per
model; ``--model replay --model_args path=<model>.jsonl,missing=short --repeats 300`` then
scores them through the task's own parser, and ``compare --base --tuned --teacher`` computes the
transfer from the replayed cells like from live ones (docs/replay.md, docs/protocols.md).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from tom_harness.api.errors import UsageError, unknown

#: reference/choices.json split -> task (chat layout; ``_paper`` appended for the paper layout)
SPLIT_TASKS = {"in_sample": "sg_in_sample", "oos_context": "sg_oos_context", "ood_game_payoffs_doubled": "sg_ood_game"}
#: what one counted answer is replayed as (the original parser maps each back to its category)
RESPONSES = {"C": "C", "D": "D", "other": ""}


def records_from_counts(counts: dict, layout: str = "paper") -> dict[str, list]:
    """Per model: replay records, every split's scenarios, each category's count as responses."""
    from tom_harness.backends.replay import ReplayRecord

    suffix = "_paper" if layout == "paper" else ""
    out: dict[str, list] = {}
    splits = counts.get("splits")
    if not isinstance(splits, dict):
        raise UsageError("counts file: expected {'splits': {split: {model: {scenario: {C, D, other}}}}}")
    for split, models in splits.items():
        if split not in SPLIT_TASKS:
            raise unknown("split in the counts file", split, list(SPLIT_TASKS))
        task = SPLIT_TASKS[split] + suffix
        for model, scenarios in models.items():
            recs = out.setdefault(model, [])
            for scenario, cats in scenarios.items():
                k = 0
                for cat, response in RESPONSES.items():
                    for _ in range(int(cats.get(cat, 0))):
                        recs.append(ReplayRecord(task, scenario, k, response))
                        k += 1
    return out


def cmd_replay_from_counts(args: argparse.Namespace) -> int:
    from tom_harness.backends.replay import write_replay
    from tom_harness.data.roots import data_file

    path = Path(args.counts) if args.counts else data_file("strategic_games", "reference/choices.json")
    try:
        counts = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(f"--counts {path}: cannot read it ({exc})") from None
    dest = Path(args.dest)
    for model, recs in records_from_counts(counts, args.layout).items():
        written = write_replay(dest / f"{model}.jsonl", recs)
        print(f"{written}: {len(recs)} responses")
    return 0


def compare_transfer(args: argparse.Namespace, dirs: list[Path], tasks: list[str] | None, dest: Path) -> int:
    """``compare ... --base B --tuned T --teacher R``: the transfer report."""
    from tom_harness.results.compare import cells_by_row
    from tom_harness.results.outdir import OutputDir
    from tom_harness.results.transfer import resolve_sides, run_transfer, summary_lines
    from tom_harness.spec.option_checks import check_output_dir

    named = {"--base": args.base, "--tuned": args.tuned, "--teacher": args.teacher}
    absent = [flag for flag, v in named.items() if not v]
    if absent:
        raise UsageError(f"the transfer report needs --base, --tuned and --teacher; missing {', '.join(absent)}")
    if len(dirs) not in (1, 3):
        raise UsageError("the transfer report takes one output directory (three rows) or three (one row each)")
    sides = resolve_sides(dirs, args.base, args.tuned, args.teacher, cells_by_row, args.row)
    _, summaries, files = run_transfer(sides, tasks, dest, check_output_dir)
    if dest.resolve() in {d.resolve() for d in dirs}:
        OutputDir(dest).record(files)
    print(summary_lines(summaries), end="")
    print("wrote: " + ", ".join(str(f) for f in files))
    return 0
