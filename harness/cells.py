"""The output directory: manifest, one JSON file per cell, samples; all writes atomic.

Layout::

    OUT/manifest.json                        matrix spec, versions, model fingerprint
    OUT/cells/<intervention-id>/<task>.json  one cell: lm-eval results + harness metadata
    OUT/cells/<intervention-id>/samples/<task>/<subtask>.jsonl   with --log_samples
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterable

from lm_eval.utils import handle_non_serializable

from .errors import UsageError

SCHEMA = 1
DONE_STATUSES = ("ok", "not_applicable")


def atomic_write_text(path: Path, text: str) -> None:
    """Write via a temp file in the same folder + rename: readers never see half a file."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """:func:`atomic_write_text` for bytes (e.g. gzip'd per-item files)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def dumps(obj: Any) -> str:
    return json.dumps(obj, indent=1, default=handle_non_serializable, ensure_ascii=False)


def intervention_id(label: str) -> str:
    """A folder-safe id from a row label: ``grad_mask:m=1e-05`` -> ``grad_mask--m=1e-05``."""
    safe = re.sub(r"[^A-Za-z0-9._=+-]+", "_", label.replace(":", "--").replace(",", "__"))
    if len(safe) > 96:
        safe = safe[:80] + "-" + hashlib.sha256(label.encode()).hexdigest()[:12]
    return safe


class OutputDir:
    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.json"

    def cell_path(self, iv_id: str, task: str) -> Path:
        return self.root / "cells" / iv_id / f"{task}.json"

    def samples_dir(self, iv_id: str, task: str) -> Path:
        return self.root / "cells" / iv_id / "samples" / task

    # -- manifest --------------------------------------------------------------------------
    def read_manifest(self) -> dict | None:
        try:
            return json.loads(self.manifest_path.read_text())
        except FileNotFoundError:
            return None
        except ValueError:
            raise UsageError(f"{self.manifest_path} is not valid JSON; use a new --output_path or --overwrite") from None

    def claim(self, spec_dict: dict, spec_hash: str, extra: dict, overwrite: bool) -> None:
        """Write the manifest, refusing an existing directory that holds a different matrix."""
        old = self.read_manifest()
        if old is not None and old.get("spec_hash") != spec_hash:
            if not overwrite:
                raise UsageError(
                    f"{self.root} holds results of a different matrix (spec {old.get('spec_hash', '?')[:12]} vs "
                    f"{spec_hash[:12]}); use a new --output_path, or --overwrite to replace them"
                )
            self.clear()
        elif old is None and (self.root / "cells").exists() and not overwrite:
            raise UsageError(f"{self.root} has cells but no manifest; use a new --output_path or --overwrite")
        elif old is None and overwrite:
            self.clear()
        manifest = {"schema": SCHEMA, "spec": spec_dict, "spec_hash": spec_hash, **(old or {}), **extra}
        manifest["spec"], manifest["spec_hash"] = spec_dict, spec_hash
        atomic_write_text(self.manifest_path, dumps(manifest))

    def update_manifest(self, **extra: Any) -> None:
        manifest = self.read_manifest() or {}
        manifest.update(extra)
        atomic_write_text(self.manifest_path, dumps(manifest))

    def clear(self) -> None:
        shutil.rmtree(self.root / "cells", ignore_errors=True)
        for name in ("manifest.json",):
            (self.root / name).unlink(missing_ok=True)
        for p in self.root.glob("leaderboard.*"):
            p.unlink()

    # -- cells -----------------------------------------------------------------------------
    def is_done(self, iv_id: str, task: str) -> bool:
        cell = self.read_cell(self.cell_path(iv_id, task))
        return cell is not None and cell.get("status") in DONE_STATUSES

    @staticmethod
    def read_cell(path: Path) -> dict | None:
        try:
            cell = json.loads(path.read_text())
        except (FileNotFoundError, ValueError):
            return None
        return cell if isinstance(cell, dict) and cell.get("schema") == SCHEMA else None

    def write_cell(self, cell: dict) -> Path:
        path = self.cell_path(cell["intervention"]["id"], cell["task"])
        atomic_write_text(path, dumps(cell))
        return path

    def write_samples(self, iv_id: str, task: str, samples: dict[str, list]) -> list[Path]:
        out = []
        for subtask, rows in samples.items():
            path = self.samples_dir(iv_id, task) / f"{subtask}.jsonl"
            atomic_write_text(path, "".join(json.dumps(r, default=handle_non_serializable, ensure_ascii=False) + "\n" for r in rows))
            out.append(path)
        return out

    def cells(self) -> list[dict]:
        return list(iter_cells([self.root]))


def iter_cells(roots: Iterable[Path]) -> Iterable[dict]:
    """Every readable cell under the given output dirs (several dirs = merged shards)."""
    for root in roots:
        for path in sorted(Path(root).glob("cells/*/*.json")):
            cell = OutputDir.read_cell(path)
            if cell is not None:
                cell["_path"] = str(path)
                yield cell
