"""``tom-harness train {sft,dpo}``: flags to a :class:`Recipe` and :func:`train_adapter` (harness/train/)."""
from __future__ import annotations

import argparse
from pathlib import Path


def cmd_train(args: argparse.Namespace) -> int:
    from tom_harness.api.values import model_args as parse_model_args
    from tom_harness.host.plugin_host import get_host
    from tom_harness.train.data import read_data
    from tom_harness.train.job import train_adapter
    from tom_harness.train.recipe import Recipe
    from tom_harness.train.replay import renderer

    recipe = Recipe(method=args.method, seed=args.seed, max_steps=args.max_steps, epochs=args.epochs, lr=args.lr,
                    batch_size=args.batch_size, lora_r=args.lora_r, lora_alpha=args.lora_alpha,
                    lora_dropout=args.lora_dropout, target_modules=args.target_modules, max_length=args.max_length,
                    beta=getattr(args, "beta", None), save_steps=args.save_steps)
    host = get_host(args.plugins)
    data = read_data(Path(args.data), args.method,
                     renderer(host, args.data_dir, bool(getattr(args, "apply_chat_template", False)), args.include_path or []))
    eval_tasks = [t.strip() for t in (args.eval_tasks or "").split(",") if t.strip()]
    outcome = train_adapter(host, data, recipe, Path(args.output), backend=args.model,
                            model_args=parse_model_args(args.model_args), eval_tasks=eval_tasks,
                            allow_overlap=args.allow_overlap, include_path=args.include_path or [], cache_dir=args.cache_dir, retrain=args.retrain,
                            overwrite=args.overwrite, show_progress=not args.no_progress)
    run = outcome.card["training"]
    how = ("cache hit: the same base, data and recipe were trained before; not retrained" if outcome.cache_hit
           else f"trained {run['steps']} steps in {run['wall_s']:.1f} s wall, {run['cpu_s']:.1f} s CPU")
    print(f"{how}\nadapter: {outcome.folder} (key {outcome.key[:16]}; card: {outcome.folder / 'README.md'})\n"
          f"evaluate it: --interventions none adapter:path={outcome.folder}")
    return 0
