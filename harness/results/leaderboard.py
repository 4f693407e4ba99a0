"""Leaderboard files (CSV, Markdown, HTML, plots) built from cell files alone, so
``tom-harness table`` can rebuild or merge shards.

The tidy frame and its statistics live in :mod:`tom_harness.results.table_build` (and
:mod:`tom_harness.results.paired_tests`); rendering in :mod:`tom_harness.results.table_render`. Their public names
are re-exported here for existing callers.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

import pandas as pd

from tom_harness.results.outdir import atomic_write_text, iter_cells
from tom_harness.results.row_names import display_labels, manifest_specs
from tom_harness.results.table_build import (  # noqa: F401  (re-exported)
    COLUMNS, HEADLINE_ORDER, build_table, cell_rows, headline_metric, preferred_metrics, replicate_summaries,
)
from tom_harness.results.table_render import headline, legend, terminal, to_html, to_markdown  # noqa: F401  (re-exported)


def row_order(cells: Iterable[dict], names: dict[str, str] | None = None) -> dict[str, int]:
    """Label (and group label) -> the row's position in its matrix, for display order; keyed by
    display label where ``names`` maps labels to them."""
    order: dict[str, int] = {}
    names = names or {}
    for c in cells:
        iv = c["intervention"]
        for key in (iv["label"], iv.get("group_label", iv["label"])):
            key = names.get(key, key)
            order[key] = min(order.get(key, 10**6), int(iv.get("row", 10**6)))
    return order


def write_leaderboard(output_dirs: list[Path], dest: Path, report_writers: dict | None = None) -> tuple[pd.DataFrame, pd.DataFrame, list[Path]]:
    """Build the table from the cell files under ``output_dirs`` and write it (and plots) to ``dest``."""
    cells = list(iter_cells(output_dirs))
    specs = manifest_specs(output_dirs)
    table = build_table(cells, specs)
    pivot = headline(table, preferred_metrics(cells), row_order(cells, display_labels(cells, specs)))
    written: list[Path] = []
    for name, fn in (report_writers or {}).items():
        try:
            written.extend(Path(p) for p in (fn(dest, table, cells) or []))
        except Exception as exc:  # noqa: BLE001 - a broken report must not lose the table
            import logging

            logging.getLogger("tom_harness").warning("report writer %s failed: %s", name, exc)
    csv_path, md_path, html_path = dest / "leaderboard.csv", dest / "leaderboard.md", dest / "leaderboard.html"
    atomic_write_text(csv_path, table.to_csv(index=False))
    md = "# Leaderboard\n\n## Headline\n\n" + terminal(pivot, table) + "\n## All metrics\n\n" + to_markdown(table.drop(columns=["params"]), index=False)
    atomic_write_text(md_path, md)
    images = sorted(str(p.relative_to(dest)) for p in written if p.suffix == ".png" and p.is_relative_to(dest))
    atomic_write_text(html_path, to_html(table, pivot, images))
    return table, pivot, [csv_path, md_path, html_path, *written]
