"""One run per output directory: a lock file holding the owner's pid and host.

The lock is created with ``O_CREAT | O_EXCL`` (atomic on local and NFS v3+ file systems). A lock
whose pid no longer runs on this host is stale (the run was killed) and is taken over; a lock
from another host cannot be checked, so the message says how to remove it by hand.
"""
from __future__ import annotations

import json
import os
import socket
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from tom_harness.api.errors import LockedError

LOCK_NAME = ".tom_harness.lock"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _read(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (ValueError, OSError):
        return {}
    return data if isinstance(data, dict) else {}


def _is_stale(holder: dict, path: Path) -> bool:
    if holder.get("host") == socket.gethostname():
        pid = holder.get("pid")
        return not isinstance(pid, int) or not _alive(pid)
    if not holder:  # unreadable: half-written by a killed process, give it a few seconds
        try:
            return time.time() - path.stat().st_mtime > 10
        except FileNotFoundError:
            return True
    return False


def _try_create(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"pid": os.getpid(), "host": socket.gethostname(),
                   "started": time.strftime("%Y-%m-%dT%H:%M:%S")}, fh)
    return True


def acquire(root: Path, wait_s: float = 0.0) -> Path:
    """Take the lock of output dir ``root`` (waiting up to ``wait_s``), or raise LockedError."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / LOCK_NAME
    deadline = time.monotonic() + wait_s
    while True:
        if _try_create(path):
            return path
        holder = _read(path)
        if holder is None:
            continue  # released between our two calls
        if _is_stale(holder, path):
            # rename first: of two processes that both saw the stale lock, one wins the rename
            aside = path.with_name(f"{LOCK_NAME}.stale-{os.getpid()}")
            try:
                os.replace(path, aside)
            except FileNotFoundError:
                continue
            if _read(aside) != holder:  # another process took over meanwhile: give it back
                try:
                    os.link(aside, path)
                except FileExistsError:
                    pass
            aside.unlink(missing_ok=True)
            continue
        if time.monotonic() >= deadline:
            who = f"pid {holder.get('pid', '?')} on host {holder.get('host', '?')} since {holder.get('started', '?')}"
            raise LockedError(
                f"output directory {root} is in use by another run ({who}; lock file {path}). Wait for "
                f"it to finish, or use another --output_path; if that run is gone, delete {path}"
            )
        time.sleep(0.5)


def release(path: Path) -> None:
    holder = _read(path)
    if holder and holder.get("pid") == os.getpid() and holder.get("host") == socket.gethostname():
        path.unlink(missing_ok=True)


@contextmanager
def locked(root: Path, wait_s: float = 0.0) -> Iterator[Path]:
    """``with locked(out):`` the body runs as the only run writing into ``out``."""
    path = acquire(Path(root), wait_s)
    try:
        yield path
    finally:
        release(path)
