"""The one cache for expensive preparation (gradient maps, t-maps, KB outputs): memory, then disk.

Key = sha256 over (kind, model fingerprint, data fingerprint, parameters, code version). Each disk
entry is a folder ``<root>/<kind>/<key>/`` with a payload and ``meta.json`` holding the payload's
sha256; the folder is assembled under a temporary name and renamed into place, so a crash never
leaves a half-written entry, and a payload that no longer matches its hash is recomputed. The
root is ``--cache_dir``, else ``$TOM_HARNESS_CACHE``, else ``$XDG_CACHE_HOME/tom_harness/artifacts``
(``~/.cache/tom_harness/artifacts``).

In front of the disk sits one in-process memory tier (:mod:`tom_harness.cache.memory_tier`, bounded in
bytes), shared by every cache of the process, so a sweep of rows computes or reads an artifact
once. Every get returns a :class:`Fetched` that says where the value
came from (``memory`` / ``disk`` / ``computed``); plugins store that in their cell metadata, and
the runner records every fetch of a row's ``prepare`` (``metadata.artifacts``).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import torch

from tom_harness.cache.memory_tier import MEMORY, SOURCES, Fetched, MemoryTier, clear_memory, remember  # noqa: F401 (API)
from tom_harness.api.params import format_value


def default_cache_root() -> Path:
    env = os.environ.get("TOM_HARNESS_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "tom_harness" / "artifacts"


def _canonical(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _canonical(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, (list, tuple)):
        return [_canonical(v) for v in obj]
    if isinstance(obj, float):
        return format_value(obj)
    if isinstance(obj, Path):
        return str(obj)
    return obj


def content_key(*parts: Any) -> str:
    """Stable sha256 of JSON-able parts (dict keys sorted, floats canonicalised)."""
    blob = json.dumps(_canonical(list(parts)), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def files_fingerprint(paths: list[Path]) -> str:
    """Fingerprint of data files by content (names excluded, so moving a data dir keeps keys)."""
    return content_key([file_sha256(Path(p)) for p in sorted(paths)])


def _write_tensors(tmp: Path, value: dict[str, torch.Tensor]) -> None:
    from safetensors.torch import save_file

    save_file({k: v.detach().contiguous().cpu() for k, v in value.items()}, str(tmp / "payload.safetensors"))


def _read_tensors(folder: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(str(folder / "payload.safetensors"))


#: payload formats on disk: (file name, write(tmp_dir, value), read(dir) -> value)
FORMATS: dict[str, tuple[str, Callable[[Path, Any], None], Callable[[Path], Any]]] = {
    "tensors": ("payload.safetensors", _write_tensors, _read_tensors),
    "json": ("payload.json", lambda tmp, v: (tmp / "payload.json").write_text(json.dumps(v)),
             lambda d: json.loads((d / "payload.json").read_text())),
}


class ArtifactCache:
    """Get-or-compute store for tensor dicts (safetensors) and JSON artifacts: memory, disk, compute.

    ``counts`` tallies the sources of every get; :meth:`take_log` hands over (and forgets) the
    gets since the last call, for the cell metadata.
    """

    def __init__(self, root: Path | str | None = None, memory: MemoryTier | None = None) -> None:
        self.root = Path(root) if root else default_cache_root()
        self.memory = MEMORY if memory is None else memory
        self.counts: Counter = Counter()
        self._log: list[Fetched] = []

    def path_for(self, kind: str, key: str) -> Path:
        return self.root / kind / key

    def _mkey(self, kind: str, key: str, fmt: str) -> tuple:
        return (str(self.root), kind, key, fmt)

    def _done(self, got: Fetched, t0: float) -> Fetched:
        got.seconds = time.perf_counter() - t0
        self.counts[got.source] += 1
        self._log.append(got)
        return got

    # -- the API plugins use -----------------------------------------------------------------
    def fetch(self, kind: str, key: str, compute: Callable[[], Any], *, fmt: str = "tensors",
              meta: dict | None = None) -> Fetched:
        """The value under (kind, key) from memory, else disk, else ``compute()`` (then stored)."""
        t0 = time.perf_counter()
        got = self.peek(kind, key, fmt=fmt, _log=False)
        if got is None:
            with self._key_lock(kind, key):  # workers sharing the cache compute a key once
                got = self.peek(kind, key, fmt=fmt, _log=False)
                if got is None:
                    value = compute()
                    self.put(kind, key, value, fmt=fmt, meta=meta)
                    got = Fetched(value, "computed", kind, key)
        return self._done(got, t0)

    @contextmanager
    def _key_lock(self, kind: str, key: str) -> Iterator[None]:
        """An exclusive lock on one key across processes (``flock`` on a lock file beside the
        entry), so executor workers on one cache path wait for, then read, a key another is
        computing instead of computing it again. Released when the process dies."""
        import fcntl

        path = self.root / ".locks" / f"{kind}-{key}.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a+b") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def tensors(self, kind: str, key: str, compute: Callable[[], dict[str, torch.Tensor]],
                meta: dict | None = None) -> dict[str, torch.Tensor]:
        """``fetch(..., fmt="tensors").value``."""
        return self.fetch(kind, key, compute, fmt="tensors", meta=meta).value

    def json(self, kind: str, key: str, compute: Callable[[], Any], meta: dict | None = None) -> Any:
        """``fetch(..., fmt="json").value``."""
        return self.fetch(kind, key, compute, fmt="json", meta=meta).value

    def peek(self, kind: str, key: str, *, fmt: str = "json", _log: bool = True) -> Fetched | None:
        """The stored value from memory or disk, or None; never computes (batched producers
        look up many keys first, compute the missing ones together, then :meth:`put`)."""
        t0 = time.perf_counter()
        found, value = self.memory.get(self._mkey(kind, key, fmt))
        got = Fetched(value, "memory", kind, key) if found else None
        if got is None:
            value = self._read_disk(kind, key, fmt)
            if value is not None:
                self.memory.put(self._mkey(kind, key, fmt), value)
                got = Fetched(value, "disk", kind, key)
        return self._done(got, t0) if got is not None and _log else got

    def put(self, kind: str, key: str, value: Any, *, fmt: str = "json", meta: dict | None = None) -> None:
        """Store ``value`` in memory and (atomically, hash-checked) on disk."""
        self.memory.put(self._mkey(kind, key, fmt), value)
        self._write_disk(kind, key, value, fmt, meta)

    def remember(self, kind: str, key: str, compute: Callable[[], Any], pin: bool = False) -> Fetched:
        """:func:`remember` (memory tier only), logged with this cache's gets."""
        got = remember(kind, key, compute, pin, self.memory)
        self.counts[got.source] += 1
        self._log.append(got)
        return got

    def take_log(self) -> list[dict[str, Any]]:
        """The gets since the last call, as cell-metadata records (and forget them)."""
        out, self._log = [f.record() for f in self._log], []
        return out

    # -- disk ----------------------------------------------------------------------------------
    def _read_disk(self, kind: str, key: str, fmt: str) -> Any:
        payload, _, read = FORMATS[fmt]
        final = self.path_for(kind, key)
        if not final.is_dir():
            return None
        try:
            info = json.loads((final / "meta.json").read_text())
            if file_sha256(final / payload) == info["sha256"]:
                return read(final)
        except (OSError, KeyError, ValueError):
            pass
        shutil.rmtree(final, ignore_errors=True)  # corrupt or partial: recompute
        return None

    def _write_disk(self, kind: str, key: str, value: Any, fmt: str, meta: dict | None) -> None:
        payload, write, _ = FORMATS[fmt]
        final = self.path_for(kind, key)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key[:12]}.", dir=final.parent))
        try:
            write(tmp, value)
            info = {"kind": kind, "key": key, "sha256": file_sha256(tmp / payload),
                    "created": time.strftime("%Y-%m-%dT%H:%M:%S"), **(meta or {})}
            (tmp / "meta.json").write_text(json.dumps(info, indent=1, default=str))
            try:
                os.rename(tmp, final)
            except OSError:  # another process won the race (or an entry exists): keep theirs
                shutil.rmtree(tmp, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
