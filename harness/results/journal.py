"""The output directory's journal: every file a run wrote besides its cells and manifest (tables,
plots, reports, and what plugins export while preparing, e.g. the localizer's t-maps), one
relative path a line in ``OUT/.tom_harness_files``, so ``--overwrite`` can remove all of them and
no picture of a replaced run survives into the next one's leaderboard.

Two ways in: :func:`record` for the files a writer returns, :func:`record_since` for every file
modified since the run started (so a plugin need not report what it writes).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Iterable

JOURNAL = ".tom_harness_files"
#: entries of the output directory that are the run's own bookkeeping, never journaled
BOOKKEEPING = ("cells", "manifest.json", JOURNAL, ".tom_harness.lock")
#: seconds of timestamp slack: the kernel stamps files from a coarse clock, a little behind time.time()
MTIME_SLACK_S = 0.05


def record(root: Path, paths: Iterable[Path]) -> None:
    """Add ``paths`` that lie inside ``root`` to its journal."""
    base = Path(root).resolve()
    rels = [str(Path(p).resolve().relative_to(base)) for p in paths if Path(p).resolve().is_relative_to(base)]
    if rels:
        with open(Path(root) / JOURNAL, "a", encoding="utf-8") as fh:
            fh.write("".join(r + "\n" for r in rels))


def record_since(root: Path, since: float) -> list[Path]:
    """Journal every file under ``root`` modified since ``since`` (``time.time()`` at the start
    of the run), bookkeeping aside; returns them. A file the user saved into the folder during
    the run is journaled too (it is then removed by the next ``--overwrite``)."""
    root = Path(root)
    if not root.is_dir():
        return []
    new: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        if Path(dirpath) == root:
            dirnames[:] = [d for d in dirnames if d not in BOOKKEEPING]
            filenames = [f for f in filenames if f not in BOOKKEEPING]
        for name in filenames:
            path = Path(dirpath) / name
            try:
                if path.stat().st_mtime >= since - MTIME_SLACK_S:
                    new.append(path)
            except OSError:  # removed meanwhile
                continue
    record(root, new)
    return new


def written_files(root: Path) -> list[Path]:
    """The files the journal lists, once each (only those inside ``root``)."""
    try:
        lines = (Path(root) / JOURNAL).read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return []
    base = Path(root).resolve()
    out = []
    for rel in dict.fromkeys(line.strip() for line in lines if line.strip()):
        path = (base / rel).resolve()
        if path.is_relative_to(base) and path != base:
            out.append(path)
    return out


def remove_written(root: Path) -> None:
    """Delete every journaled file (or folder), then the folders that leaves empty."""
    base = Path(root).resolve()
    for path in written_files(root):
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        for parent in path.parents:
            if parent == base or not parent.is_relative_to(base):
                break
            try:
                parent.rmdir()  # only succeeds on an empty folder
            except OSError:
                break
