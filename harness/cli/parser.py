"""The ``tom-harness`` argument parser: every subcommand and flag, nothing that acts on them.

Flags follow lm-eval's (``--model --model_args --tasks --limit --output_path --log_samples``...);
``run`` and ``prompts`` share one set, so a dry run takes the same command line as the run.
"""
from __future__ import annotations

import argparse
from typing import Any

from tom_harness import __version__


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
    p.add_argument("--shard", help="run only shard K of N of the rows (each with all its tasks), e.g. 2/4 "
                   "(merge with `tom-harness table`)")
    p.add_argument("--overwrite", action="store_true", help="replace results of a different matrix in --output_path")
    p.add_argument("--max_rows", type=int, default=None,
                   help="most intervention rows the specs may expand to (default 1000)")
    p.add_argument("--lock_wait", type=float, default=0.0, metavar="SECONDS",
                   help="wait this long for another run using --output_path to finish (default: exit 2 at once)")
    p.add_argument("--allow_config_plugins", action="store_true",
                   help="let the --config YAML's plugins: key load code (off: plugins come from --plugins only)")
    p.add_argument("--no_progress", action="store_true", help="hide progress bars")


def _add_executor_args(p: argparse.ArgumentParser) -> None:
    """Where the cells run (docs/scale-out.md)."""
    g = p.add_argument_group("executor", "where the cells run (docs/scale-out.md)")
    g.add_argument("--executor", default="serial", help="serial (this process, default) or ray (actors on a Ray "
                   "cluster, each loading the model once; needs tom-harness[ray])")
    g.add_argument("--workers", type=int, help="ray: number of worker actors (default 2)")
    g.add_argument("--ray_address", help="ray: address of a running cluster (e.g. auto); default: start a local one")
    g.add_argument("--worker_cpus", type=float, help="ray: CPUs per worker (default 1; also its torch threads)")
    g.add_argument("--worker_gpus", type=float, help="ray: GPUs per worker (default 0, or --tensor_parallel)")
    g.add_argument("--tensor_parallel", type=int, help="ray + vllm: tensor-parallel size inside each worker "
                   "(vLLM's multiprocessing executor)")


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
    _add_executor_args(run)
    prompts = sub.add_parser("prompts", help="dry run: write each document's exact prompt per row and task "
                             "(JSONL under --output_path/<row>/<task>.jsonl), without evaluating")
    _add_run_args(prompts)
    prompts.add_argument("--stub_answers", nargs="?", const="canned", default=None, metavar="FILE",
                         help="answer the interventions' own model calls (SimToM's perspective, DWM's world "
                              "states, ...) from a recording, a JSON object {prompt or its sha256: answer}, "
                              "or with canned answers when no FILE is given; the model is not loaded")

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
                          "correctness is the majority of its repeats (<metric>_majority). Tasks with answer "
                          "distributions (share_* metrics under --repeats) also get per-document share differences "
                          "with bootstrap CIs and a test of equal distributions. With --base/--tuned/--teacher "
                          "(three rows of one run, or three runs): the per-document transfer "
                          "(|p_base-p_teacher|-|p_tuned-p_teacher|)/|p_base-p_teacher|, its mean and CIs, "
                          "compare.csv/.md and compare_transfer.png (docs/statistics.md).")
    cmp_.add_argument("output_dirs", nargs="+", metavar="OUT_DIR", help="one run (with two --rows) or two runs (same rows)")
    cmp_.add_argument("--rows", nargs="+", help="rows by label, id, table label or spec, e.g. none scale:layer=10,factor=0.5 "
                      "(two runs: default every shared row; or ROW_OF_RUN1 ROW_OF_RUN2, e.g. a teacher row "
                      "against an adapter row)")
    cmp_.add_argument("--tasks", nargs="+", help="tasks to compare (default: every task both sides ran)")
    cmp_.add_argument("--dest", help="where to write compare.csv/.md (default: the first directory)")
    cmp_.add_argument("--base", help="transfer report: the base side (a row of one run, or one of the runs by path or "
                      "folder name); with --tuned and --teacher (docs/statistics.md)")
    cmp_.add_argument("--tuned", help="transfer report: the tuned side (row or run)")
    cmp_.add_argument("--teacher", help="transfer report: the teacher side (row or run)")
    cmp_.add_argument("--row", help="transfer across runs: the row to read in each (default: their one shared row, else none)")
    rfc = sub.add_parser("replay-from-counts", help="turn released answer counts (strategic_games reference/choices.json) "
                         "into replay files, one per model (docs/replay.md)")
    rfc.add_argument("--dest", required=True, help="folder for <model>.jsonl")
    rfc.add_argument("--counts", help="counts file (default: <data dir>/strategic_games/reference/choices.json)")
    rfc.add_argument("--layout", default="paper", choices=["paper", "chat"],
                     help="tasks the responses are recorded for: sg_*_paper (the original prompt, default) or sg_*")
    exp = sub.add_parser("export", help="write a finished run's prompts and answers as a fine-tuning set (JSONL)")
    exp.add_argument("output_dir", help="output directory of a run made with --log_samples")
    exp.add_argument("--rows", nargs="+", required=True, metavar="ROW", help="rows to export: label, id, table label or spec")
    exp.add_argument("--tasks", required=True, help="comma-separated tasks to export")
    exp.add_argument("--format", default="sft-jsonl", help="sft-jsonl: prompt/completion, or chat messages")
    exp.add_argument("--correct_only", action="store_true", help="only answers the task scored as correct")
    exp.add_argument("--metric", help="the 0/1 metric that decides correctness (default: the task's headline)")
    exp.add_argument("--dest", help="JSONL file to write (default: OUT/export/<row>.sft.jsonl)")
    exp.add_argument("--pairs", action="store_true", help="preference pairs for `train dpo` from a --repeats run: "
                     "chosen = a correct (or teacher-agreeing) answer, rejected = a wrong one, same prompt")
    exp.add_argument("--teacher", metavar="ROW", help="with --pairs: prefer answers that agree with this row's answer")
    trains = _add_train_parser(sub)

    pub = sub.add_parser("publish", help="send a run's cells to W&B, MLflow or the Hugging Face Hub, one tracked "
                         "run per row")
    pub.add_argument("output_dir", help="output directory of a run (or merged shards' destination)")
    pub.add_argument("--to", required=True, help="wandb (WANDB_MODE=offline keeps it local), mlflow, or hub")
    pub.add_argument("--rows", nargs="+", metavar="ROW", help="row labels (or ids) to publish (default: all)")
    pub.add_argument("--project", default="tom-harness", help="W&B project / MLflow experiment (default tom-harness)")
    pub.add_argument("--entity", help="wandb: team or user")
    pub.add_argument("--tracking_uri", help="mlflow: tracking URI (default $MLFLOW_TRACKING_URI), e.g. file:./mlruns")
    pub.add_argument("--repo_id", help="hub: dataset repository owner/name (token from HF_TOKEN)")
    pub.add_argument("--public", action="store_true", help="hub: create the repository public (default private)")

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
    for p in (run, prompts, ls, table, cmp_, exp, pub, data, dl, df, rfc, *trains):
        _add_debug_flags(p, argparse.SUPPRESS)
    return parser


def _add_debug_flags(p: argparse.ArgumentParser, default: Any) -> None:
    """``--verbose`` / ``--debug`` anywhere on the line: show tracebacks of handled errors."""
    p.add_argument("--verbose", action="store_true", default=default,
                   help="show everything: lm-eval's bars and repeated warnings, tracebacks of errors")
    p.add_argument("--debug", action="store_true", default=default, help="same as --verbose")


def _add_train_parser(sub: Any) -> list[argparse.ArgumentParser]:
    """``tom-harness train {sft,dpo}``: a LoRA adapter with TRL, cached, with a card (harness/train/)."""
    train = sub.add_parser("train", help="fine-tune a LoRA adapter with TRL on an export (sft) or on pairs (dpo)")
    methods = train.add_subparsers(dest="method", metavar="METHOD", required=True)
    made = [train]
    for method, data_help in (("sft", "JSONL from `export` (prompt/completion or chat messages) or a replay file "
                               "of teacher outputs ({task, doc, repeat, response})"),
                              ("dpo", "JSONL of preference pairs from `export --pairs`")):
        p = methods.add_parser(method, help=f"{method.upper()} with TRL and peft (LoRA)")
        p.add_argument("--data", required=True, help=data_help)
        p.add_argument("--output", required=True, metavar="DIR", help="adapter folder to write (use as adapter:path=DIR)")
        p.add_argument("--model", default="hf", help="backend that loads the base model (default hf)")
        p.add_argument("--model_args", default="pretrained=smollm2-135m", help="k=v,...; pretrained=<alias|path|hub id>")
        p.add_argument("--eval_tasks", help="comma-separated tasks you will evaluate the adapter on: training "
                       "items of these tasks are refused (contamination guard)")
        p.add_argument("--allow_overlap", action="store_true", help="train even if the data overlaps --eval_tasks")
        p.add_argument("--include_path", action="append", help="extra folder of lm-eval YAML tasks (repeatable)")
        p.add_argument("--seed", type=int, default=0, help="seed of LoRA init, shuffling and dropout (default 0)")
        p.add_argument("--max_steps", type=int, default=-1, help="optimizer steps (default: --epochs over the data)")
        p.add_argument("--epochs", type=float, default=1.0, help="passes over the data (default 1)")
        p.add_argument("--lr", type=float, default=2e-4 if method == "sft" else 5e-5, help="learning rate")
        p.add_argument("--batch_size", type=int, default=4, help="examples per optimizer step (default 4)")
        p.add_argument("--lora_r", type=int, default=8, help="LoRA rank (default 8)")
        p.add_argument("--lora_alpha", type=int, default=16, help="LoRA alpha (default 16)")
        p.add_argument("--lora_dropout", type=float, default=0.0, help="LoRA dropout (default 0)")
        p.add_argument("--target_modules", default="all-linear", help="comma-separated module names, or all-linear")
        p.add_argument("--max_length", type=int, default=1024, help="tokens per example; longer ones are truncated")
        if method == "sft":
            p.add_argument("--apply_chat_template", action="store_true",
                           help="replay files: train on chat messages (evaluate with --apply_chat_template too)")
        if method == "dpo":
            p.add_argument("--beta", type=float, default=0.1, help="DPO beta (default 0.1)")
        p.add_argument("--save_steps", type=int, default=0, help="checkpoint every N steps, to resume after a kill "
                       "(default: about 4 checkpoints per run)")
        p.add_argument("--data_dir", help="benchmark data folder, for replay files (default: $TOM_HARNESS_DATA)")
        p.add_argument("--cache_dir", help="artifact cache folder (trained adapters are kept there by content hash)")
        p.add_argument("--retrain", action="store_true", help="train again even if the cache holds this adapter")
        p.add_argument("--overwrite", action="store_true", help="replace a different adapter already in --output")
        p.add_argument("--no_progress", action="store_true", help="hide the progress bar")
        made.append(p)
    return made
