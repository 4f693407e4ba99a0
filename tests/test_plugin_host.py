"""The plugin host: built-ins always present, pluggy order, per-plugin failure isolation, and a
third-party backend that works through ``register_backends`` alone."""
from __future__ import annotations

import json

import pytest
import torch
from lm_eval.api.model import LM

from tom_harness.api.context import ModelHandle
from tom_harness.api.errors import UsageError
from tom_harness.api.hookspecs import hookimpl
from tom_harness.api.intervention import Intervention
from tom_harness.spec.matrix import build_spec
from tom_harness.host.plugin_host import load_host, recollect
from tom_harness.run.runner import MatrixRunner
from tom_harness.task_yamls import TASK_DIR
from tests.test_runner import TOY_TASKS, toy_data  # noqa: F401  (fixture)

BUILTIN_INTERVENTIONS = {"none", "sbs", "grad_mask", "localizer", "enigma"}


def test_allow_list_filters_only_third_party_plugins(monkeypatch):
    full = load_host()
    monkeypatch.setenv("TOM_HARNESS_LOAD_PLUGINS", "x")
    filtered = load_host()
    assert BUILTIN_INTERVENTIONS <= set(filtered.interventions)
    assert set(filtered.interventions) == set(full.interventions)
    assert TASK_DIR in filtered.task_sources
    assert {"hf", "vllm"} <= set(filtered.backends)
    assert "smollm2-135m" in filtered.model_aliases
    assert "tom_order" in filtered.report_writers
    assert filtered.failures == []


class KeywordLM(LM):
    """A deterministic backend: shorter continuations score higher; generation answers 'box'.

    Its 'weights' are one linear layer, so weight interventions and restore checks have
    something to edit."""

    def __init__(self) -> None:
        super().__init__()
        self.module = torch.nn.Linear(2, 2)
        self.calls = 0

    def loglikelihood(self, requests, disable_tqdm: bool = False):
        self.calls += len(requests)
        bias = float(self.module.weight.detach().sum())  # an edit of the weights shifts every score alike
        return [(-float(len(r.args[1])) + bias, False) for r in requests]

    def loglikelihood_rolling(self, requests, disable_tqdm: bool = False):
        self.calls += len(requests)
        return [-float(len(r.args[0])) for r in requests]

    def generate_until(self, requests, disable_tqdm: bool = False):
        self.calls += len(requests)
        return ["box" for _ in requests]


class KeywordBackend:
    loaded: list[dict] = []

    @hookimpl
    def register_backends(self, register):
        def load(model_args, device, batch_size):
            KeywordBackend.loaded.append(dict(model_args))
            lm = KeywordLM()
            return ModelHandle(backend="keyword", name=str(model_args["name"]), lm=lm, tokenizer=None,
                               model=lm.module, model_args=dict(model_args))

        def check(model_args):
            if "bad" in str(model_args["pretrained"]):
                raise UsageError(f"keyword backend: cannot serve {model_args['pretrained']}")

        register("keyword", load, "deterministic test backend", check=check)

    @hookimpl
    def register_model_aliases(self, register):
        register("kw-tiny", lambda: {"pretrained": "/nonexistent/kw"}, "alias served by the keyword backend")


@pytest.fixture()
def kw_host():
    host = load_host()
    host.pm.register(KeywordBackend(), name="keyword-plugin")
    recollect(host)
    return host


def test_third_party_backend_runs_through_the_hook_alone(kw_host, tmp_path):
    spec = build_spec({}, {
        "model": "keyword", "model_args": "pretrained=kw-tiny", "tasks": "toy_mc,toy_gen",
        "interventions": ["none", "sbs"], "limit": 3, "include_path": [str(TOY_TASKS)],
    })
    out = tmp_path / "out"
    summary = MatrixRunner(spec, kw_host, out, progress=False).run()
    assert len(summary.ran) == 4
    assert KeywordBackend.loaded[-1]["pretrained"] == "/nonexistent/kw"  # alias resolved first
    mc = json.loads((out / "cells" / "none" / "toy_mc.json").read_text())
    assert mc["model"] == "kw-tiny" and mc["results"]["results"]["toy_mc"]["acc,none"] == 1.0
    gen = json.loads((out / "cells" / "sbs" / "toy_gen.json").read_text())
    assert gen["results"]["results"]["toy_gen"]["exact_match,none"] == 1.0
    assert gen["metadata"]["requests"]["prompt_edits"] == 3
    assert json.loads((out / "manifest.json").read_text())["backend"] == "keyword"


def test_unknown_backend_is_checked_against_registered_ones(kw_host, tmp_path):
    spec = build_spec({}, {"model": "keywrod", "tasks": "toy_mc", "include_path": [str(TOY_TASKS)]})
    with pytest.raises(UsageError, match="unknown --model 'keywrod'; did you mean 'keyword'"):
        MatrixRunner(spec, kw_host, tmp_path / "out", progress=False).run()


def test_backend_check_runs_before_any_task_loads(kw_host, tmp_path):
    spec = build_spec({}, {"model": "keyword", "model_args": "pretrained=/bad/kw", "tasks": "no_such_task"})
    with pytest.raises(UsageError, match="cannot serve /bad/kw"):
        MatrixRunner(spec, kw_host, tmp_path / "out", progress=False).run()


class Dummy(Intervention):
    name = "dummy"
    kind = "prompts"
    description = "first version"


class Dummy2(Dummy):
    description = "second version"


class Broken:
    @hookimpl
    def register_backends(self, register):
        register("broken-backend", lambda *a: None)

    @hookimpl
    def register_interventions(self, register):
        raise RuntimeError("cannot register")


class Early:
    @hookimpl(tryfirst=True)
    def register_interventions(self, register):
        register(Dummy)


class Late:
    @hookimpl
    def register_interventions(self, register):
        register(Dummy2)


class Wrapper:
    seen: list[str] = []

    @hookimpl(wrapper=True)
    def register_interventions(self, register):
        Wrapper.seen.append("call")
        return (yield)


def test_failing_plugin_is_skipped_whole_and_pluggy_order_is_kept():
    host = load_host()
    for name, plugin in (("early", Early()), ("broken", Broken()), ("late", Late()), ("wrapper", Wrapper())):
        host.pm.register(plugin, name=name)
    Wrapper.seen.clear()
    recollect(host)
    assert [f.name for f in host.failures] == ["broken"]
    assert "RuntimeError: cannot register" in host.failures[0].error
    assert "broken-backend" not in host.backends  # its other registrations are dropped too
    # tryfirst beats "registered later is called first"; the first registration of a name wins
    assert host.interventions["dummy"] is Dummy and host.intervention_plugin["dummy"] == "early"
    assert "sbs" in host.interventions
    # the wrapper wraps every plugin's call
    n_impls = len([i for i in host.pm.hook.register_interventions.get_hookimpls() if not i.wrapper])
    assert len(Wrapper.seen) == n_impls
