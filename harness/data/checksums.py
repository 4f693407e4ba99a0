"""Data files are checked against the registry's sha256 when a task or plugin loads them.

An edited or truncated seed file is reported (exit 2), never scored. Hashing every file on every
run would cost seconds, so a verified hash is remembered by (path, size, mtime) in
``<cache>/verified_data.json``: an unchanged file is checked with one ``stat``. A file the
registry does not know (a user's own dataset) is loaded, with a warning that it is unverified.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path

from tom_harness.api.errors import DataMissingError
from tom_harness.data.registry import DATASETS

log = logging.getLogger("tom_harness")
RECORD_NAME = "verified_data.json"
CHUNK = 1 << 20
_warned: set[str] = set()


def _record_path() -> Path:
    from tom_harness.cache.artifacts import default_cache_root

    return default_cache_root() / RECORD_NAME


def _load_record(path: Path) -> dict[str, list]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _save_record(path: Path, record: dict[str, list]) -> None:
    """Atomic replace; two runs racing lose at most an entry (re-hashed next time)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(record, fh)
        os.replace(tmp, path)
    except OSError as exc:  # a read-only cache only costs speed
        log.debug("could not remember verified data hashes in %s: %s", path, exc)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def expected(dataset: str, relpath: str) -> tuple[int, str] | None:
    """(size, sha256) the registry pins for ``dataset/relpath``, or None if it knows no such file."""
    info = DATASETS.get(dataset)
    return info.files.get(relpath) if info is not None else None


def is_verified(path: Path, size: int, sha: str, rehash: bool = False) -> bool:
    """Whether ``path`` has the pinned size and sha256 (remembered by size + mtime)."""
    try:
        st = path.stat()
    except OSError:
        return False
    if st.st_size != size:
        return False
    record_path = _record_path()
    record = _load_record(record_path)
    key = str(path.resolve())
    if not rehash and record.get(key) == [st.st_size, st.st_mtime_ns, sha]:
        return True
    if sha256_of(path) != sha:
        return False
    record[key] = [st.st_size, st.st_mtime_ns, sha]
    _save_record(record_path, record)
    return True


def file_ok(path: Path, size: int, sha: str, verify: bool) -> bool:
    """A real sha256 check (remembered by size + mtime; ``verify`` re-hashes regardless)."""
    return path.is_file() and is_verified(path, size, sha, rehash=verify)


def verify_data_file(dataset: str, relpath: str, path: Path) -> None:
    """Raise DataMissingError if a registered file differs from its pinned hash; warn once
    about a file the registry does not know."""
    pinned = expected(dataset, relpath)
    if pinned is None:
        if str(path) not in _warned:
            _warned.add(str(path))
            log.warning("data file %s is not in the dataset registry: loaded unverified", path)
        return
    size, sha = pinned
    if not is_verified(Path(path), size, sha):
        raise DataMissingError(
            f"data file {path} does not match the registry (size {size}, sha256 {sha[:12]}...): it was "
            f"edited or is corrupt, and would be scored as if it were {dataset}/{relpath}. Restore it "
            f"with `tom-harness data fetch {dataset}`, or put your own data under a dataset name of "
            "its own (an unregistered file is loaded with a warning)."
        )
