"""Resumable, sha256-verified downloads of registry files into a data root.

``fetch`` is what ``tom-harness data fetch`` runs: each file goes to ``<root>/<dataset>/<rel>.part``
(resumed with an HTTP Range request), is hashed against the registry, and only then renamed into
place, so a data root never holds a half-written or unverified file under its real name.
"""
from __future__ import annotations

import os
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable, Iterable
from urllib.parse import quote

from tom_harness.data.checksums import CHUNK, sha256_of
from tom_harness.data.checksums import file_ok as _file_ok
from tom_harness.data.registry import DatasetInfo
from tom_harness.data.registry import resolve_names as _resolve
from tom_harness.data.roots import data_dir as default_data_dir
from tom_harness.api.errors import DataMissingError, UsageError


def _url(info: DatasetInfo, rel: str, base_url: str | None) -> str:
    if base_url:
        return f"{base_url.rstrip('/')}/{info.name}/{quote(rel)}"
    url = info.upstream(rel)
    if url is None:
        raise UsageError(
            f"dataset {info.name!r} file {rel!r} has no single-file public source ({info.source}); "
            f"fetch it from a mirror with the data-directory layout: "
            f"`tom-harness data fetch {info.name} --base_url URL`"
        )
    return url


def writable_folder(folder: Path, flag: str = "--data_dir") -> Path:
    """Create ``folder`` and prove a file can be written there (a temp file, removed again), so
    a read-only or impossible data directory fails before any download, naming the folder."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".tomh-write-check."):
            pass
    except OSError as exc:
        raise UsageError(f"{flag}: cannot write to {folder} ({exc.strerror or type(exc).__name__}); "
                         f"pass a folder you can write to (or set TOM_HARNESS_DATA)") from None
    return folder


def _too_much(url: str, part: Path, size: int) -> DataMissingError:
    return DataMissingError(f"{url} sent more than the {size} bytes the registry pins for "
                            f"{part.name.removesuffix('.part')}; stopped reading at the pinned size, nothing installed")


def _announced(response, have: int, resumed: bool) -> int | None:
    """The bytes the response says the file has in all (Content-Range total, or Content-Length
    plus what we already have), None when the server does not say."""
    total = (response.headers.get("Content-Range") or "").rpartition("/")[2]
    if resumed and total.isdigit():
        return int(total)
    length = response.headers.get("Content-Length")
    return int(length) + (have if resumed else 0) if length and length.isdigit() else None


def _download(url: str, part: Path, size: int, say: Callable[[str], None]) -> bool:
    """Append the rest of ``url`` to ``part`` (HTTP Range); returns whether it resumed. Never
    reads past the pinned ``size``: a response that announces more is refused unread, and one
    that does not say is read at most one byte beyond ``size`` (to tell it is too long)."""
    have = part.stat().st_size if part.exists() else 0
    if have > size:
        part.unlink()
        have = 0
    request = urllib.request.Request(url, headers={"User-Agent": "tom-harness"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        response = urllib.request.urlopen(request, timeout=60)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # our partial file is already complete (or bogus)
            return True
        raise
    with response:
        resumed = have > 0 and response.status == 206
        if have and not resumed:
            say(f"  server ignored the range request; restarting {part.name}")
        announced = _announced(response, have, resumed)
        if announced is not None and announced > size:
            part.unlink(missing_ok=True)
            raise _too_much(url, part, size)
        with open(part, "ab" if resumed else "wb") as fh:
            got = have if resumed else 0
            while True:
                block = response.read(min(CHUNK, size + 1 - got))
                if not block:
                    break
                got += len(block)
                if got > size:  # the registry pins the size: never read more than that
                    fh.close()
                    part.unlink(missing_ok=True)
                    raise _too_much(url, part, size)
                fh.write(block)
    return resumed


def fetch_file(info: DatasetInfo, rel: str, root: Path, base_url: str | None = None,
               say: Callable[[str], None] = lambda s: None) -> Path:
    """Make ``root/<dataset>/<rel>`` present and intact: resume a ``.part`` download, verify the
    pinned sha256, then rename atomically. A bad download is deleted and reported."""
    size, sha = info.files[rel]
    dest = root / info.name / rel
    if _file_ok(dest, size, sha, verify=True):
        return dest
    if dest.exists():
        say(f"  {info.name}/{rel}: present but does not match its sha256; downloading again")
    writable_folder(dest.parent)
    part = dest.with_name(dest.name + ".part")
    url = _url(info, rel, base_url)
    for attempt in range(2):
        try:
            resumed = _download(url, part, size, say)
        except (urllib.error.URLError, OSError) as exc:
            raise DataMissingError(
                f"could not download {info.name}/{rel} from {url}: {exc}. Partial data is kept in "
                f"{part}; rerun `tom-harness data fetch {info.name}` to resume."
            ) from exc
        got = sha256_of(part)
        if got == sha:
            os.replace(part, dest)
            return dest
        part.unlink()
        if not resumed:
            break
        say(f"  {info.name}/{rel}: resumed file failed its checksum; downloading from scratch")
    raise DataMissingError(
        f"{info.name}/{rel} downloaded from {url} is corrupt: sha256 {got} != pinned {sha}. "
        f"Nothing was written to {dest}; check the source (or --base_url) and rerun "
        f"`tom-harness data fetch {info.name}`."
    )


def fetch(names: Iterable[str], data_dir: str | os.PathLike | None = None,
          base_url: str | None = None, progress: bool = True) -> list[Path]:
    """Download the named datasets (or ``all``) into ``data_dir``; files already intact are
    kept. Returns the paths of all their files."""
    root = Path(data_dir).expanduser() if data_dir else default_data_dir()
    say = (lambda s: print(s, file=sys.stderr, flush=True)) if progress else (lambda s: None)
    paths = []
    for info in _resolve(names):
        say(f"{info.name}: {len(info.files)} file(s) -> {root / info.name}")
        writable_folder(root / info.name)
        for rel in info.files:
            paths.append(fetch_file(info, rel, root, base_url, say))
    return paths
