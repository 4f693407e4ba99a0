"""Adapters as rows: a LoRA adapter built here on the tiny model, activated per row, undone exactly."""
from __future__ import annotations

import json
import sys
import types

import pytest
import torch

from tom_harness.api.errors import UsageError
from tom_harness.backends.loading import handle_for_vllm, load_hf
from tom_harness.plugins.adapter import module_tree
from tests.test_backends import FakeEngine, FakeVLLM
from tests.test_runner import TOY_TASKS, host, make_runner, toy_data  # noqa: F401  (fixtures)


@pytest.fixture(scope="module")
def adapter_dir(tiny_model_dir, tmp_path_factory):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(1)
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    lora = get_peft_model(base, LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    out = tmp_path_factory.mktemp("adapters") / "dpo"
    lora.save_pretrained(out)
    return out


def _samples(out, iv_id, task="toy_mc"):
    path = out / "cells" / iv_id / "samples" / task / f"{task}.jsonl"
    return [json.loads(line)["resps"] for line in path.read_text().splitlines()]


def test_adapter_rows_restore_and_match_a_peft_load(host, tiny_handle, tiny_model_dir, adapter_dir, tmp_path):  # noqa: F811
    out = tmp_path / "out"
    tree = module_tree(tiny_handle.model)
    rows = ["none", f"adapter:path={adapter_dir}", f"adapter:path={adapter_dir}+sbs"]
    summary = make_runner(host, tiny_handle, out, rows, tasks="toy_mc,toy_gen", log_samples=True).run()
    assert len(summary.ran) == 6 and not summary.not_applicable
    assert module_tree(tiny_handle.model) == tree
    assert not any("lora" in n for n, _ in tiny_handle.model.named_parameters())
    ids = {c.parent.name for c in (out / "cells").glob("*/toy_mc.json")}
    ad_id = next(i for i in ids if i.startswith("adapter") and "sbs" not in i)
    for iv_id in ids - {"none"}:
        cell = json.loads((out / "cells" / iv_id / "toy_mc.json").read_text())
        assert cell["metadata"]["restore_check"]["ok"] is True, iv_id
    meta = json.loads((out / "cells" / ad_id / "toy_mc.json").read_text())["metadata"]
    assert meta["adapter_name"] == "dpo" and meta["adapter_params"] > 0 and meta["peft_type"] == "LORA"
    # the row gives what a separate peft= load of base + adapter gives, and differs from the base
    direct = load_hf({"pretrained": str(tiny_model_dir), "peft": str(adapter_dir), "max_length": 512}, "cpu", 4)
    out2 = tmp_path / "direct"
    make_runner(host, direct, out2, ["none"], tasks="toy_mc", log_samples=True).run()
    assert _samples(out, ad_id) == _samples(out2, "none")
    assert _samples(out, ad_id) != _samples(out, "none")


def test_bad_adapter_path_is_a_usage_error(host, tmp_path):  # noqa: F811
    with pytest.raises(UsageError, match="no adapter_config.json"):
        host.build_interventions(f"adapter:path={tmp_path}")
    with pytest.raises(UsageError, match="give path=DIR"):
        host.build_interventions("adapter")


def test_vllm_without_lora_is_na_and_with_lora_sets_a_request(host, tiny_handle, adapter_dir, tmp_path, monkeypatch):  # noqa: F811
    fake = FakeVLLM(tiny_handle.lm, FakeEngine(tiny_handle.model))
    handle = handle_for_vllm(fake, "fake-vllm", {"pretrained": "x"})
    make_runner(host, handle, tmp_path / "o", [f"adapter:path={adapter_dir}+sbs"], tasks="toy_gen").run()
    (cell,) = [json.loads(p.read_text()) for p in (tmp_path / "o" / "cells").glob("*/toy_gen.json")]
    assert cell["status"] == "not_applicable" and "enable_lora=True" in cell["metadata"]["reason"]

    request = types.ModuleType("vllm.lora.request")
    request.LoRARequest = lambda name, lid, path: ("lora", name, lid, path)
    for mod in ("vllm", "vllm.lora"):
        monkeypatch.setitem(sys.modules, mod, types.ModuleType(mod))
    monkeypatch.setitem(sys.modules, "vllm.lora.request", request)
    fake.__dict__.update(model_args={"enable_lora": True}, lora_request=None)
    (row,) = host.build_interventions(f"adapter:path={adapter_dir}")
    from tom_harness.api.context import RunContext

    ctx = RunContext(handle=handle, cache=None, caller=types.SimpleNamespace(state="adapter"))
    assert row.unavailable(ctx) is None
    row.apply(ctx)
    assert fake.lora_request[:2] == ("lora", "dpo") and fake.lora_request[3] == str(adapter_dir)
    row.remove(ctx)
    assert fake.lora_request is None and ctx.caller.state.startswith("adapter@")
