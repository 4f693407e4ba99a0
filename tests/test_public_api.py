"""The public API's own behaviour: a backend's handle built from keyword arguments, the in-process
model accessor, a RunContext with injected data access, and a light ``import tom_harness``."""
from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from tom_harness import DataRoots, ModelHandle, RunContext, UsageError, data_dir


def test_out_of_process_backend_handle_uses_its_callables():
    calls: list[str] = []
    remote = object()
    handle = ModelHandle("remote", "m", lm=None, tokenizer=None,
                         apply=lambda fn: [fn(remote), fn(remote)], after_edit=lambda: calls.append("edit"),
                         close=lambda: calls.append("close"), fingerprint=lambda: calls.append("fp") or "abc",
                         in_process=lambda: "twin")
    assert handle.apply_to_model(lambda m: m is remote) == [True, True]  # one result per worker
    handle.after_edit()
    assert handle.fingerprint == "abc" and handle.fingerprint == "abc"
    assert handle.in_process_model() == "twin"
    handle.close()
    handle.close()  # idempotent
    assert calls == ["edit", "fp", "close"]
    with pytest.raises(TypeError, match="not both"):
        ModelHandle("x", "x", None, None, hooks=handle.hooks, close=lambda: None)


def test_in_process_model_is_the_model_or_a_clear_error(tiny_handle):
    assert tiny_handle.in_process_model() is tiny_handle.model
    bare = ModelHandle("remote", "m", lm=None, tokenizer=None, model=None)
    with pytest.raises(UsageError, match="no in-process model"):
        bare.in_process_model()
    with pytest.raises(RuntimeError, match="exposes no model"):
        bare.apply_to_model(lambda m: m)
    copy = dataclasses.replace(tiny_handle, name="copy")  # hooks (and a computed fingerprint) travel
    assert copy.hooks is tiny_handle.hooks and copy.fingerprint == tiny_handle.fingerprint


def test_default_fingerprint_hashes_the_weights(tiny_handle):
    plain = ModelHandle("hf", "plain", lm=None, tokenizer=None, model=tiny_handle.model)
    assert plain.fingerprint == tiny_handle.fingerprint and len(plain.fingerprint) == 64


class FolderData:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, dataset: str, relpath: str) -> Path:
        return self.root / dataset / relpath


def test_run_context_reads_data_through_what_it_is_given(tmp_path, shared_data):
    ctx = RunContext(handle=None, cache=None, caller=None, data=FolderData(tmp_path))
    assert ctx.data_root == tmp_path and ctx.data_path("x", "y.json") == tmp_path / "x" / "y.json"
    default = RunContext(handle=None, cache=None, caller=None)
    assert isinstance(default.data, DataRoots) and default.data_root == data_dir()
    assert default.data_path("tomi", "tomi_seed12.json").is_file()
    given = RunContext(handle=None, cache=None, caller=None, data_root=tmp_path)
    assert given.data_root == tmp_path


def test_import_tom_harness_stays_light():
    code = ("import sys, tom_harness; heavy = [m for m in ('torch', 'numpy', 'transformers', 'lm_eval') "
            "if m in sys.modules]; print(heavy); from tom_harness import extract, surgery; "
            "assert 'torch' in sys.modules and surgery.__name__ == 'tom_harness.model.surgery'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"
