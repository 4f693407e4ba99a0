"""Per-dataset state of the data roots: present, missing, corrupt, or holding unregistered files
(what ``tom-harness data list`` prints)."""
from __future__ import annotations

import os
from pathlib import Path

from tom_harness.data.checksums import file_ok
from tom_harness.data.registry import DATASETS
from tom_harness.data.roots import data_dir as default_data_dir
from tom_harness.data.roots import find_dir


def root_of(name: str) -> Path:
    """The data root holding ``name`` (the first root if none does yet)."""
    found = find_dir(name)
    return found.parent if found is not None else default_data_dir()


def data_status(data_dir: str | os.PathLike | None = None, verify: bool = False) -> list[dict]:
    """Per dataset: where it is, how many files are present (and intact, if ``verify``)."""
    rows = []
    for info in DATASETS.values():
        root = Path(data_dir).expanduser() if data_dir else root_of(info.name)
        missing, bad = [], []
        for rel, (size, sha) in info.files.items():
            path = root / info.name / rel
            if not path.exists():
                missing.append(rel)
            elif not file_ok(path, size, sha, verify):
                bad.append(rel)
        total = len(info.files)
        state = "ok" if not missing and not bad else ("missing" if len(missing) == total else "incomplete")
        folder = root / info.name
        extra = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()
                       and str(p.relative_to(folder)) not in info.files) if folder.is_dir() else []
        rows.append({"name": info.name, "path": str(root / info.name), "files": total,
                     "present": total - len(missing), "corrupt": bad, "missing": missing, "unverified": extra,
                     "status": state if not bad else "corrupt", "description": info.description})
    return rows
