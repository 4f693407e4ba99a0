"""Content-addressed artifact cache for expensive preparation (gradient maps, t-maps, KB outputs).

Key = sha256 over (kind, model fingerprint, data fingerprint, parameters, code version). Each entry
is a folder ``<root>/<kind>/<key>/`` with a payload and ``meta.json`` holding the payload's
sha256; the folder is assembled under a temporary name and renamed into place, so a crash never
leaves a half-written entry, and a payload that no longer matches its hash is recomputed.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import torch

from .params import format_value


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


class ArtifactCache:
    """Get-or-compute store for tensors (safetensors) and JSON artifacts."""

    def __init__(self, root: Path | str | None = None, enabled: bool = True) -> None:
        self.root = Path(root) if root else default_cache_root()
        self.enabled = enabled
        self.hits = 0
        self.misses = 0

    def path_for(self, kind: str, key: str) -> Path:
        return self.root / kind / key

    # -- tensors ---------------------------------------------------------------------------
    def tensors(
        self, kind: str, key: str, compute: Callable[[], dict[str, torch.Tensor]],
        meta: dict | None = None,
    ) -> dict[str, torch.Tensor]:
        """Load the tensor dict stored under (kind, key), or compute, store and return it."""
        from safetensors.torch import load_file, save_file

        def write(tmp: Path, value: dict[str, torch.Tensor]) -> None:
            save_file({k: v.detach().contiguous().cpu() for k, v in value.items()}, str(tmp / "payload.safetensors"))

        return self._get(kind, key, compute, write, lambda d: load_file(str(d / "payload.safetensors")), "payload.safetensors", meta)

    # -- JSON ------------------------------------------------------------------------------
    def json(self, kind: str, key: str, compute: Callable[[], Any], meta: dict | None = None) -> Any:
        def write(tmp: Path, value: Any) -> None:
            (tmp / "payload.json").write_text(json.dumps(value))

        return self._get(kind, key, compute, write, lambda d: json.loads((d / "payload.json").read_text()), "payload.json", meta)

    def _get(self, kind, key, compute, write, read, payload_name, meta):
        if not self.enabled:
            self.misses += 1
            return compute()
        final = self.path_for(kind, key)
        if final.is_dir():
            try:
                info = json.loads((final / "meta.json").read_text())
                if file_sha256(final / payload_name) == info["sha256"]:
                    self.hits += 1
                    return read(final)
            except (OSError, KeyError, ValueError):
                pass
            shutil.rmtree(final, ignore_errors=True)  # corrupt or partial: recompute
        self.misses += 1
        value = compute()
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key[:12]}.", dir=final.parent))
        try:
            write(tmp, value)
            info = {
                "kind": kind,
                "key": key,
                "sha256": file_sha256(tmp / payload_name),
                "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
                **(meta or {}),
            }
            (tmp / "meta.json").write_text(json.dumps(info, indent=1, default=str))
            try:
                os.rename(tmp, final)
            except OSError:  # another process won the race; keep theirs
                shutil.rmtree(tmp, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return value
