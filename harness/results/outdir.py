"""The output directory: manifest, one JSON file per cell, samples; all writes atomic.

Layout::

    OUT/manifest.json                        matrix spec, versions, model fingerprint
    OUT/cells/<intervention-id>/<task>.json  one cell: lm-eval results + harness metadata
    OUT/cells/<intervention-id>/samples/<task>/<subtask>.jsonl   with --log_samples
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterable

from lm_eval.utils import handle_non_serializable

from tom_harness.api.errors import UsageError
from tom_harness.results import journal
from tom_harness.results.journal import JOURNAL

log = logging.getLogger("tom_harness")
SCHEMA = 1
DONE_STATUSES = ("ok", "not_applicable")
#: keys a cell must have to count as done (and to be tabled); ``results`` too when status is ok
REQUIRED_KEYS = ("schema", "status", "intervention", "task")
REQUIRED_IV_KEYS = ("id", "label", "kind")


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


def safe_name(name: str, limit: int = 96) -> str:
    """One path component from any name (task, subtask, plugin): no separators, no ``..``, no
    leading dot, not absolute. A name that had to change gets a hash of the original, so two
    different names never share a file."""
    safe = re.sub(r"[^A-Za-z0-9._=+-]+", "_", str(name)).lstrip(".") or "_"
    if safe != str(name) or len(safe) > limit:
        safe = safe[: limit - 16] + "-" + hashlib.sha256(str(name).encode()).hexdigest()[:12]
    return safe


def intervention_id(label: str) -> str:
    """A folder-safe id from a row label: ``grad_mask:m=1e-05`` -> ``grad_mask--m=1e-05``."""
    safe = re.sub(r"[^A-Za-z0-9._=+-]+", "_", label.replace(":", "--").replace(",", "__")).lstrip(".")
    if len(safe) > 96 or not safe:
        safe = safe[:80] + "-" + hashlib.sha256(label.encode()).hexdigest()[:12]
    return safe


def cell_problem(cell: object) -> str | None:
    """Why a parsed cell file cannot count as done, or None if it is complete."""
    if not isinstance(cell, dict):
        return f"expected a JSON object, found {type(cell).__name__}"
    missing = [k for k in REQUIRED_KEYS if k not in cell]
    if missing:
        return f"missing key(s) {', '.join(missing)}"
    if cell["schema"] != SCHEMA:
        return f"schema {cell['schema']!r}, expected {SCHEMA}"
    iv = cell["intervention"]
    if not isinstance(iv, dict) or any(k not in iv for k in REQUIRED_IV_KEYS):
        return f"'intervention' needs keys {', '.join(REQUIRED_IV_KEYS)}"
    if cell["status"] not in DONE_STATUSES:
        return f"status {cell['status']!r} is not one of {', '.join(DONE_STATUSES)}"
    results = cell.get("results")
    if cell["status"] == "ok" and not (isinstance(results, dict) and isinstance(results.get("results"), dict)):
        return "status ok but no lm-eval 'results' mapping"
    return None


class OutputDir:
    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.json"

    def cell_path(self, iv_id: str, task: str) -> Path:
        return self.inside(self.root / "cells" / safe_name(iv_id) / f"{safe_name(task)}.json")

    def samples_dir(self, iv_id: str, task: str) -> Path:
        return self.inside(self.root / "cells" / safe_name(iv_id) / "samples" / safe_name(task))

    def inside(self, path: Path) -> Path:
        """``path``, after checking it lies under the output directory (names are sanitised,
        this is the second line of defence)."""
        root = self.root.resolve()
        if not path.resolve().is_relative_to(root):
            raise UsageError(f"refusing to write {path}: outside the output directory {root}")
        return path

    # -- manifest --------------------------------------------------------------------------
    def read_manifest(self) -> dict | None:
        try:
            manifest = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (ValueError, OSError) as exc:
            raise UsageError(f"{self.manifest_path} is not readable JSON ({type(exc).__name__}); "
                             "use a new --output_path or --overwrite") from None
        if not isinstance(manifest, dict) or not isinstance(manifest.get("spec", {}), dict):
            raise UsageError(f"{self.manifest_path}: expected a JSON object with a 'spec' mapping, found "
                             f"{type(manifest).__name__}; use a new --output_path or --overwrite")
        return manifest

    def claim(self, spec_dict: dict, spec_hash: str, extra: dict, overwrite: bool) -> None:
        """Write the manifest, refusing an existing directory that holds a different matrix."""
        old = None if overwrite and self.manifest_path.exists() and not self._manifest_ok() else self.read_manifest()
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

    def _manifest_ok(self) -> bool:
        try:
            self.read_manifest()
        except UsageError:
            return False
        return True

    def record(self, paths: Iterable[Path]) -> None:
        """Add files written into this directory (tables, plots, reports) to its journal."""
        journal.record(self.root, paths)

    def record_since(self, since: float) -> list[Path]:
        """Journal every file written here since ``since`` (see :func:`journal.record_since`)."""
        return journal.record_since(self.root, since)

    def written_files(self) -> list[Path]:
        """Files the journal lists (only those inside the directory)."""
        return journal.written_files(self.root)

    def clear(self) -> None:
        """Remove everything the previous matrix wrote: cells (with samples and per-item files),
        the manifest, tables, and every plot or report its journal lists (with the folders they
        leave empty, e.g. ``localizer/``)."""
        journal.remove_written(self.root)
        shutil.rmtree(self.root / "cells", ignore_errors=True)
        for name in ("manifest.json", JOURNAL):
            (self.root / name).unlink(missing_ok=True)
        for p in self.root.glob("leaderboard.*"):
            p.unlink()

    # -- cells -----------------------------------------------------------------------------
    def is_done(self, iv_id: str, task: str) -> bool:
        """Whether a complete cell exists; an unreadable one is reported and recomputed."""
        path = self.cell_path(iv_id, task)
        if not path.exists():
            return False
        return self.read_cell(path, "recomputing it") is not None

    @staticmethod
    def read_cell(path: Path, action: str = "skipping it") -> dict | None:
        """The cell in ``path`` if it parses and is complete; else None, with a warning."""
        try:
            cell = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (ValueError, OSError) as exc:
            log.warning("cell file %s is unreadable (%s); %s", path, type(exc).__name__, action)
            return None
        problem = cell_problem(cell)
        if problem:
            log.warning("cell file %s is incomplete (%s); %s", path, problem, action)
            return None
        return cell

    def write_cell(self, cell: dict) -> Path:
        path = self.cell_path(cell["intervention"]["id"], cell["task"])
        atomic_write_text(path, dumps(cell))
        return path

    def write_samples(self, iv_id: str, task: str, samples: dict[str, list]) -> list[Path]:
        out = []
        for subtask, rows in samples.items():
            path = self.samples_dir(iv_id, task) / f"{safe_name(subtask)}.jsonl"
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


def check_mergeable(roots: list[Path], force: bool = False) -> None:
    """Refuse to table output dirs that hold different matrices (shards of one matrix share a
    spec); ``force`` turns the refusal into a warning."""
    seen: list[tuple[Path, dict]] = []
    for root in roots:
        manifest = OutputDir(root).read_manifest()
        if manifest is None:
            log.warning("%s has no manifest.json; its cells cannot be checked against the others", root)
            continue
        seen.append((Path(root), manifest))
    if len(seen) < 2:
        return
    first_root, first = seen[0]
    for root, other in seen[1:]:
        diff = sorted(k for k in set(first.get("spec", {})) | set(other.get("spec", {}))
                      if first.get("spec", {}).get(k) != other.get("spec", {}).get(k))
        fps = (first.get("model_fingerprint"), other.get("model_fingerprint"))
        if None not in fps and fps[0] != fps[1]:
            diff.append("model_fingerprint")
        if not diff:
            continue
        msg = (f"{first_root} and {root} hold different matrices (they differ in: {', '.join(diff)}); "
               "only shards of one matrix can be merged")
        if not force:
            raise UsageError(msg + "; pass --force to merge anyway")
        log.warning("%s (merged because of --force)", msg)
