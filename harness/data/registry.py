"""Dataset registry and status for the benchmark data roots; downloads are in :mod:`.download`.

The registry itself (descriptions, public homes, download URLs, size and sha256 of every
published file) is data: ``datasets.json`` beside this module, shipped as package data.

CLI entry points (``tom-harness data list|fetch``) take an argparse namespace with these
attributes:

* ``cli_data_list(args)``: ``data_dir`` (str | None; default: each dataset in the first data
  root that has it, see :mod:`.datadir`), ``verify`` (bool, optional; hash every present file).
* ``cli_data_fetch(args)``: ``names`` (list[str], one or more of :data:`DATASETS` or ``all``),
  ``data_dir`` (str | None; default: the first data root), ``base_url`` (str | None; a mirror laid
  out like the data directory, ``<base_url>/<dataset>/<relpath>``), ``quiet`` (bool, optional).

Both return a process exit code. Unknown names raise :class:`UsageError` (exit 2); a file that
fails its pinned sha256 raises :class:`DataMissingError` naming the file and the problem.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable
from urllib.parse import quote

from tom_harness.data.roots import data_dir as default_data_dir
from tom_harness.data.roots import find_dir
from tom_harness.api.errors import UsageError, unknown

REGISTRY_FILE = Path(__file__).with_name("datasets.json")
CHUNK = 1 << 20


@dataclass(frozen=True)
class DatasetInfo:
    """One registry entry. ``base``: where single files can be downloaded (None: mirror only);
    ``remote``: upstream file names that differ from ours (EnigmaToM's ``tomi_reduced_q_seed[12].json``
    is our ``tomi_seed12.json``)."""

    name: str
    description: str
    source: str
    files: dict[str, tuple[int, str]] = field(hash=False)  # relpath -> (size in bytes, sha256)
    base: str | None = None
    remote: dict[str, str | None] = field(default_factory=dict, hash=False)

    def upstream(self, rel: str) -> str | None:
        """Public URL of ``rel``, or None when it is only available from a mirror."""
        remote = self.remote.get(rel, rel)
        if self.base is None or remote is None:  # a null remote name: this file has no public copy
            return None
        return f"{self.base}/{quote(remote)}"


def load_registry(path: Path = REGISTRY_FILE) -> dict[str, DatasetInfo]:
    """Parse the registry file (keys starting with ``_`` are comments)."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    out = {}
    for name, entry in raw.items():
        if name.startswith("_"):
            continue
        up = entry.get("upstream") or {}
        out[name] = DatasetInfo(name, entry["description"], entry["source"],
                                {rel: (int(v[0]), str(v[1])) for rel, v in entry["files"].items()},
                                up.get("base"), dict(up.get("files", {})))
    return out


DATASETS: dict[str, DatasetInfo] = load_registry()


def _root_of(name: str) -> Path:
    """The data root holding ``name`` (the first root if none does yet)."""
    found = find_dir(name)
    return found.parent if found is not None else default_data_dir()


def _resolve(names: Iterable[str]) -> list[DatasetInfo]:
    names = list(names)
    if not names:
        raise UsageError(f"name at least one dataset to fetch: {', '.join(DATASETS)} or all")
    if "all" in names:
        return list(DATASETS.values())
    out = []
    for name in names:
        if name not in DATASETS:
            raise unknown("dataset", name, list(DATASETS) + ["all"])
        out.append(DATASETS[name])
    return out


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _file_ok(path: Path, size: int, sha: str, verify: bool) -> bool:
    """A real sha256 check (remembered by size + mtime; ``verify`` re-hashes regardless)."""
    from tom_harness.data.checksums import is_verified

    return path.is_file() and is_verified(path, size, sha, rehash=verify)


def data_status(data_dir: str | os.PathLike | None = None, verify: bool = False) -> list[dict]:
    """Per dataset: where it is, how many files are present (and intact, if ``verify``)."""
    rows = []
    for info in DATASETS.values():
        root = Path(data_dir).expanduser() if data_dir else _root_of(info.name)
        missing, bad = [], []
        for rel, (size, sha) in info.files.items():
            path = root / info.name / rel
            if not path.exists():
                missing.append(rel)
            elif not _file_ok(path, size, sha, verify):
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


def cli_data_list(args) -> int:
    """``tom-harness data list``: one line per dataset with its state and location."""
    rows = data_status(getattr(args, "data_dir", None), verify=bool(getattr(args, "verify", False)))
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        detail = f"{r['present']}/{r['files']} files"
        if r["corrupt"]:
            detail += f", corrupt: {', '.join(r['corrupt'][:3])}"
        if r.get("unverified"):
            detail += f", {len(r['unverified'])} unverified (not in the registry): {', '.join(r['unverified'][:3])}"
        print(f"{r['name']:<{width}}  {r['status']:<10}  {detail:<24}  {r['path']}")
    missing = [r["name"] for r in rows if r["status"] != "ok"]
    if missing:
        print(f"\nget missing data with: tom-harness data fetch {' '.join(missing)}")
    return 0


def cli_data_fetch(args) -> int:
    """``tom-harness data fetch NAME... [--data_dir D] [--base_url URL]``."""
    from tom_harness.data.download import fetch

    paths = fetch(getattr(args, "names", []), getattr(args, "data_dir", None),
                  getattr(args, "base_url", None), progress=not getattr(args, "quiet", False))
    print(f"{len(paths)} file(s) present and verified")
    return 0


from tom_harness.data.download import fetch, fetch_file  # noqa: E402,F401  (the public API lives on here too)
