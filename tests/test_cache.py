"""The one artifact cache: memory tier, then disk (verified, atomic), then compute; every get
says where its value came from."""
from __future__ import annotations

import json

import pytest
import torch

from tom_harness.cache.artifacts import ArtifactCache, MemoryTier, clear_memory, remember
from tom_harness.api.hookspecs import hookimpl
from tom_harness.api.intervention import Intervention
from tom_harness.api.params import Param
from tom_harness.host.plugin_host import load_host, recollect
from tests.test_runner import make_runner, toy_data  # noqa: F401  (fixture)


@pytest.fixture(autouse=True)
def _fresh_memory():
    clear_memory()
    yield
    clear_memory()


def test_memory_then_disk_then_compute_and_every_source_reported(tmp_path):
    cache = ArtifactCache(tmp_path)
    calls = []

    def compute():
        calls.append(1)
        return {"t": torch.arange(6.0)}

    first = cache.fetch("maps", "k1", compute, meta={"note": "x"})
    second = cache.fetch("maps", "k1", compute)
    assert (first.source, second.source) == ("computed", "memory") and len(calls) == 1
    assert second.value is first.value
    assert json.loads((tmp_path / "maps" / "k1" / "meta.json").read_text())["note"] == "x"
    clear_memory()  # as a new process would
    other = ArtifactCache(tmp_path)
    third = other.fetch("maps", "k1", compute)
    assert third.source == "disk" and torch.equal(third.value["t"], torch.arange(6.0)) and len(calls) == 1
    assert other.fetch("maps", "k1", compute).source == "memory"
    assert [r["source"] for r in other.take_log()] == ["disk", "memory"] and other.take_log() == []
    assert cache.counts == {"computed": 1, "memory": 1}


def test_corrupt_payload_is_recomputed_and_interrupted_write_leaves_nothing(tmp_path):
    cache = ArtifactCache(tmp_path)
    calls = []

    def compute():
        calls.append(1)
        return {"t": torch.arange(6.0)}

    cache.tensors("maps", "k1", compute)
    clear_memory()
    payload = tmp_path / "maps" / "k1" / "payload.safetensors"
    payload.write_bytes(payload.read_bytes()[:-3] + b"xyz")
    got = cache.fetch("maps", "k1", compute)
    assert got.source == "computed" and torch.equal(got.value["t"], torch.arange(6.0)) and len(calls) == 2

    def boom():
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cache.json("kb", "k2", boom)
    assert not (tmp_path / "kb" / "k2").exists() and not list((tmp_path / "kb").glob(".*"))


def test_peek_and_put_for_batched_producers(tmp_path):
    cache = ArtifactCache(tmp_path)
    assert cache.peek("kb", "a") is None
    cache.put("kb", "a", {"answer": 1})
    assert cache.peek("kb", "a").source == "memory"
    clear_memory()
    got = cache.peek("kb", "a")
    assert got.source == "disk" and got.value == {"answer": 1}


def test_memory_tier_is_bounded_in_bytes_and_keeps_pinned_values():
    tier = MemoryTier(max_bytes=100)
    tier.put(("a",), torch.zeros(10))  # 40 bytes
    tier.put(("b",), torch.zeros(10))
    tier.get(("a",))  # a is now the most recent
    tier.put(("c",), torch.zeros(10))  # 120 > 100: b (least recent) goes
    assert tier.get(("b",)) == (False, None) and tier.get(("a",))[0] and tier.get(("c",))[0]
    tier.put(("big",), torch.zeros(100))  # larger than the bound: returned by callers, not kept
    assert tier.get(("big",)) == (False, None)
    model = torch.nn.Linear(100, 100)
    got = remember("model", "m", lambda: model, pin=True, memory=tier)
    assert got.source == "computed" and remember("model", "m", lambda: None, memory=tier).value is model
    assert tier.nbytes <= 100


def test_memory_bound_from_the_environment(monkeypatch):
    monkeypatch.setenv("TOM_HARNESS_CACHE_MEMORY", "0.5")
    assert MemoryTier().max_bytes == 1 << 29
    monkeypatch.setenv("TOM_HARNESS_CACHE_MEMORY", "lots")
    from tom_harness.api.errors import UsageError

    with pytest.raises(UsageError, match="TOM_HARNESS_CACHE_MEMORY"):
        MemoryTier().max_bytes


class Cached(Intervention):
    """A prompt row whose ``prepare`` fetches one artifact shared by every row."""

    name = "cached"
    kind = "prompts"
    description = "test row that fetches a shared artifact"
    params = (Param("n", "int", 0, "row number"),)

    def prepare(self, ctx):
        got = ctx.cache.fetch("test_shared", "one-key", lambda: {"t": torch.ones(3)})
        self.metadata["shared_source"] = got.source


class CachedPlugin:
    @hookimpl
    def register_interventions(self, register):
        register(Cached)


def test_runner_records_where_each_rows_artifacts_came_from(tiny_handle, tmp_path):
    host = load_host()
    host.pm.register(CachedPlugin(), name="cached-plugin")
    recollect(host)
    runner = make_runner(host, tiny_handle, tmp_path / "out", ["cached:n=0:2"], tasks="toy_mc",
                         cache=ArtifactCache(tmp_path / "art"))
    runner.run()
    metas = [json.loads((tmp_path / "out" / "cells" / row / "toy_mc.json").read_text())["metadata"]
             for row in ("cached", "cached--n=1")]
    assert [m["shared_source"] for m in metas] == ["computed", "memory"]
    assert [[a["source"] for a in m["artifacts"]] for m in metas] == [["computed"], ["memory"]]
    assert metas[0]["artifacts"][0]["kind"] == "test_shared"
