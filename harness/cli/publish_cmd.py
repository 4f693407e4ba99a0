"""``tom-harness publish OUT --to wandb|mlflow|hub``: a finished run's rows to an experiment tracker
(:mod:`tom_harness.results.publish`)."""
from __future__ import annotations

import argparse
from pathlib import Path

from tom_harness.api.errors import UsageError


def cmd_publish(args: argparse.Namespace) -> int:
    from tom_harness.results.publish import publish

    out = Path(args.output_dir)
    if not (out / "cells").is_dir():
        raise UsageError(f"{out} has no cells/ folder: not a tom-harness output directory")
    ids = publish(out, args.to, rows=args.rows, project=args.project, entity=args.entity,
                  tracking_uri=args.tracking_uri, repo_id=args.repo_id, public=args.public)
    where = {"wandb": "W&B run", "mlflow": "MLflow run", "hub": "file in the Hub repo"}[args.to]
    for ident in ids:
        print(f"{where}: {ident}")
    return 0
