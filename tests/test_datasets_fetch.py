"""Fetching from a loopback mirror of ../shared/data: verified, resumable, atomic."""
from __future__ import annotations

import functools
import hashlib
import http.server
import threading
import time
from argparse import Namespace
from pathlib import Path

import pytest

import tom_harness.data as ds
from tom_harness.cli.catalog_cmd import cli_data_list
from tom_harness.api.errors import DataMissingError, UsageError


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder with HTTP Range support; records request headers; can corrupt a file."""

    log: list[tuple[str, str | None]] = []
    corrupt: set[str] = set()
    #: path -> (extra bytes appended, whether Content-Length announces them): an oversized file
    #: whose body (or, unannounced, the bytes past the pinned size) is held back until ``release``
    oversize: dict[str, tuple[int, bool]] = {}
    release = threading.Event()
    HOLD_S = 20.0

    def log_message(self, *args):  # keep test output quiet
        pass

    def do_GET(self):
        path = Path(self.translate_path(self.path))
        type(self).log.append((self.path, self.headers.get("Range")))
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        if self.path in type(self).corrupt:
            data = data[:-1] + bytes([data[-1] ^ 1])
        if self.path in type(self).oversize:
            self._send_oversized(data)
            return
        start = 0
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes="):
            start = int(rng[6:].split("-")[0])
            if start >= len(data):
                self.send_error(416)
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        self.wfile.write(data[start:])

    def _send_oversized(self, data: bytes) -> None:
        extra, announce = type(self).oversize[self.path]
        body = data + b" " * extra
        self.send_response(200)
        if announce:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        first = 0 if announce else len(data) + 1  # unannounced: one byte past the pinned size first
        try:
            self.wfile.write(body[:first])
            self.wfile.flush()
            type(self).release.wait(self.HOLD_S)
            self.wfile.write(body[first:])
        except OSError:  # the client hung up: what we want
            pass


@pytest.fixture()
def mirror(shared_data):
    _Handler.log, _Handler.corrupt, _Handler.oversize = [], set(), {}
    _Handler.release = threading.Event()
    handler = functools.partial(_Handler, directory=str(shared_data))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    _Handler.release.set()
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_registry_pins_the_shared_files(shared_data):
    rows = {r["name"]: r for r in ds.data_status(shared_data, verify=True)}
    assert set(rows) == {"tomi", "hitom", "fantom", "bigtom", "sparse_tom", "localizer", "wikitext2", "enigma_cache",
                         "enigma_prompts", "strategic_games"}
    assert all(r["status"] == "ok" for r in rows.values()), rows


def test_fetch_bigtom(mirror, tmp_path, shared_data):
    paths = ds.fetch(["bigtom"], tmp_path, base_url=mirror, progress=False)
    assert sorted(p.name for p in paths) == sorted(p.name for p in (shared_data / "bigtom").iterdir())
    assert all(p.read_bytes() == (shared_data / "bigtom" / p.name).read_bytes() for p in paths)
    seed = ds.DATASETS["bigtom"].upstream("bigtom_seed2024.json")
    assert seed.endswith("/data/tom_datasets/bigtom/bigtom_reduced_q_seed%5B2024%5D.json")


def test_fetch_enigma_prompts(mirror, tmp_path, shared_data):
    """The original's templates are a dataset: fetched, pinned by sha256, upstream at eb8b8b5."""
    paths = ds.fetch(["enigma_prompts"], tmp_path, base_url=mirror, progress=False)
    assert len(paths) == 17 and all(p.read_bytes() == (shared_data / "enigma_prompts" / p.name).read_bytes() for p in paths)
    info = ds.DATASETS["enigma_prompts"]
    assert info.upstream("eval_prompt_3_0.yaml") == ("https://raw.githubusercontent.com/seacowx/EnigmaToM/"
                                                     "eb8b8b54ced7c87f71081ce5a02b5e5dafc91d10/src/prompts/eval_prompt_3_0.yaml")
    assert info.upstream("generation_config.yml").endswith("/src/configs/generation_config.yml")


def test_fetch_verifies_and_lists(mirror, tmp_path, shared_data, capsys):
    paths = ds.fetch(["tomi", "sparse_tom"], tmp_path, base_url=mirror, progress=False)
    assert len(paths) == 8
    for p in paths:
        rel = p.relative_to(tmp_path)
        assert p.read_bytes() == (shared_data / rel).read_bytes()
    assert not list(tmp_path.rglob("*.part"))
    cli_data_list(Namespace(data_dir=str(tmp_path), verify=True))
    out = capsys.readouterr().out
    assert "tomi" in out and "ok" in out and "tom-harness data fetch hitom" in out


def test_resume_uses_range_and_completes(mirror, tmp_path, shared_data):
    src = shared_data / "tomi" / "tomi_seed42.json"
    part = tmp_path / "tomi" / "tomi_seed42.json.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(src.read_bytes()[:40_000])  # an interrupted earlier download
    ds.fetch_file(ds.DATASETS["tomi"], "tomi_seed42.json", tmp_path, base_url=mirror)
    assert (tmp_path / "tomi" / "tomi_seed42.json").read_bytes() == src.read_bytes()
    assert ("/tomi/tomi_seed42.json", "bytes=40000-") in _Handler.log
    assert not part.exists()


def test_stale_partial_restarts_from_scratch(mirror, tmp_path, shared_data):
    part = tmp_path / "tomi" / "tomi_seed96.json.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(b"garbage" * 1000)
    ds.fetch_file(ds.DATASETS["tomi"], "tomi_seed96.json", tmp_path, base_url=mirror)
    dest = tmp_path / "tomi" / "tomi_seed96.json"
    assert hashlib.sha256(dest.read_bytes()).hexdigest() == ds.DATASETS["tomi"].files["tomi_seed96.json"][1]


def test_corrupt_download_is_reported_and_not_installed(mirror, tmp_path):
    _Handler.corrupt = {"/tomi/tomi_seed12.json"}
    with pytest.raises(DataMissingError, match=r"tomi/tomi_seed12.json.*corrupt.*data fetch tomi"):
        ds.fetch_file(ds.DATASETS["tomi"], "tomi_seed12.json", tmp_path, base_url=mirror)
    assert not (tmp_path / "tomi" / "tomi_seed12.json").exists()
    assert not list(tmp_path.rglob("*.part"))


def test_corrupt_local_file_is_replaced(mirror, tmp_path, shared_data):
    dest = tmp_path / "wikitext2" / "README"
    dest.parent.mkdir(parents=True)
    dest.write_text("tampered")
    rows = {r["name"]: r for r in ds.data_status(tmp_path)}
    assert rows["wikitext2"]["corrupt"] == ["README"]
    ds.fetch(["wikitext2"], tmp_path, base_url=mirror, progress=False)
    assert dest.read_bytes() == (shared_data / "wikitext2" / "README").read_bytes()


def test_bad_names_and_mirror_only_sources(tmp_path):
    with pytest.raises(UsageError, match="did you mean: tomi"):
        ds.fetch(["tomy"], tmp_path)
    with pytest.raises(UsageError, match="--base_url"):
        ds.fetch(["sparse_tom"], tmp_path, progress=False)


def test_unreachable_source_names_file_and_resume_hint(tmp_path):
    with pytest.raises(DataMissingError, match=r"hitom/hitom_full.json.*resume"):
        ds.fetch(["hitom"], tmp_path, base_url="http://127.0.0.1:9", progress=False)


@pytest.mark.parametrize("announce", [True, False], ids=["content-length", "no-length"])
def test_an_oversized_download_stops_at_the_pinned_size(mirror, tmp_path, announce):
    """A server sending 5.8 MB for a file pinned at its real size: refused unread when it says so
    (Content-Length), else after one byte past the pinned size; the rest is never waited for."""
    _Handler.oversize = {"/tomi/tomi_seed12.json": (5_800_000, announce)}
    started = time.monotonic()
    with pytest.raises(DataMissingError, match=r"more than the \d+ bytes the registry pins for tomi_seed12.json"):
        ds.fetch_file(ds.DATASETS["tomi"], "tomi_seed12.json", tmp_path, base_url=mirror)
    assert time.monotonic() - started < _Handler.HOLD_S / 2  # did not wait for the held-back bytes
    assert not (tmp_path / "tomi" / "tomi_seed12.json").exists() and not list(tmp_path.rglob("*.part"))


def test_an_unwritable_data_dir_is_a_usage_error_naming_it(tmp_path, capsys):
    """Root can write anywhere, so the folder is made impossible: its parent is a regular file."""
    from tom_harness.cli.main import main

    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    target = blocker / "data"
    assert main(["data", "fetch", "tomi", "--data_dir", str(target), "--base_url", "http://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert f"cannot write to {target / 'tomi'}" in err and "--data_dir" in err
    assert "bug" not in err and "Traceback" not in err
