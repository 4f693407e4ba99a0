"""The dataset registry: what each dataset is, where it comes from, and the size and sha256 of
every published file.

The registry itself (descriptions, public homes, download URLs, sizes and hashes) is data:
``datasets.json`` beside this module, shipped as package data. Where the files are is
:mod:`.roots`; whether they are intact, :mod:`.checksums`; per-dataset state, :mod:`.status`;
downloads, :mod:`.download`; the ``tom-harness data list|fetch`` commands live in
:mod:`tom_harness.cli.catalog_cmd`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable
from urllib.parse import quote

from tom_harness.api.errors import UsageError, unknown

REGISTRY_FILE = Path(__file__).with_name("datasets.json")


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


def resolve_names(names: Iterable[str]) -> list[DatasetInfo]:
    """The registry entries of ``names`` (``all``: every one); an unknown name is a UsageError."""
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
