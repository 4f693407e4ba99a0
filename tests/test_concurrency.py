"""Concurrent writers: the output-directory lock admits one holder at a time, and the shared
artifact cache gives every reader one complete value while several processes write one key."""
from __future__ import annotations

import json
import multiprocessing as mp
import time
from pathlib import Path

import pytest

from tom_harness.cache.artifacts import ArtifactCache
from tom_harness.run.locks import locked

CTX = mp.get_context("fork")


def _hold(root: str, log: str, n: int) -> None:
    with locked(Path(root), wait_s=60):
        start = time.time()
        time.sleep(0.2)
        with open(log, "a") as fh:
            fh.write(json.dumps([n, start, time.time()]) + "\n")


def test_the_lock_admits_one_run_at_a_time(tmp_path):
    log = tmp_path / "log.jsonl"
    procs = [CTX.Process(target=_hold, args=(str(tmp_path / "out"), str(log), n)) for n in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0] * 4
    spans = sorted(json.loads(l)[1:] for l in log.read_text().splitlines())
    assert len(spans) == 4
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:]))
    assert not (tmp_path / "out" / ".tom_harness.lock").exists()


def _write(root: str, n: int, q) -> None:
    cache = ArtifactCache(root)
    value = cache.json("stress", "one-key", lambda: {"rows": list(range(20000)), "by": n})
    q.put((n, value["rows"] == list(range(20000))))


@pytest.mark.parametrize("writers", [6])
def test_the_artifact_cache_is_safe_under_concurrent_writers(tmp_path, writers):
    q = CTX.Queue()
    procs = [CTX.Process(target=_write, args=(str(tmp_path / "cache"), n, q)) for n in range(writers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    got = [q.get(timeout=10) for _ in range(writers)]
    assert all(ok for _, ok in got)
    entries = list((tmp_path / "cache" / "stress").iterdir())
    assert [e.name for e in entries] == ["one-key"]  # one entry, no temp folders left
    assert ArtifactCache(tmp_path / "cache").json("stress", "one-key", lambda: pytest.fail("recomputed"))["rows"][-1] == 19999
