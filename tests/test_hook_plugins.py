"""Every hook has a test plugin that exercises it (as datasette tests each plugin hook): a tiny
plugin per hook, registered in a fixture and unregistered after it, and a test asserting what the
hook does in a run (and that it stops once the plugin is gone). :data:`PLUGINS` must name one
plugin per hookspec, so a new hook cannot land without one."""
from __future__ import annotations

import json

import datasets
import pytest

from tests.test_hook_docs import SPECS
from tests.test_runner import TOY_TASKS, toy_data  # noqa: F401  (fixture)
from tom_harness import Intervention, Param, PromptEdit, UsageError, hookimpl  # what a plugin author imports
from tom_harness.host.plugin_host import load_host, recollect
from tom_harness.run.runner import MatrixRunner
from tom_harness.spec.matrix import build_spec


class Tagger(Intervention):
    """Appends a tag to the instruction: a prompts intervention from a plugin."""

    name = "hook_tagger"
    kind = "prompts"
    params = (Param("tag", "str", "TAGGED"),)

    def edit_prompts(self, docs, task, ctx):
        return [PromptEdit(instruction=f"[{self.values['tag']}]") for _ in docs]


class InterventionsPlugin:
    @hookimpl
    def register_interventions(self, register):
        register(Tagger)


def _load_two_docs(**_kwargs):
    return datasets.DatasetDict({"test": datasets.Dataset.from_list([
        {"narrative": "Sam put the key in the drawer.", "question": "Where is the key?", "choices": ["drawer", "bag"], "label": 0},
        {"narrative": "Sam moved the key to the bag.", "question": "Where is the key?", "choices": ["drawer", "bag"], "label": 1},
    ])})


DICT_TASK = {
    "task": "hook_dict_task", "custom_dataset": _load_two_docs, "test_split": "test", "output_type": "multiple_choice",
    "doc_to_text": "{{narrative}}\nQuestion: {{question}}\nAnswer:", "doc_to_choice": "{{choices}}",
    "doc_to_target": "{{label}}", "metric_list": [{"metric": "acc", "aggregation": "mean", "higher_is_better": True}],
    "metadata": {"version": 1.0, "family": "hook_toy", "unit": "event", "question_kind": "choice"},
}


class TaskSourcesPlugin:
    @hookimpl
    def register_task_sources(self, register):
        register(DICT_TASK)


class AliasPlugin:
    target: str = ""

    @hookimpl
    def register_model_aliases(self, register):
        register("hook-tiny", lambda: {"pretrained": AliasPlugin.target}, "the tiny test model")


class BackendPlugin:
    calls: list[tuple[str, dict]] = []

    @hookimpl
    def register_backends(self, register):
        from tom_harness.backends.loading import load_hf

        def check(model_args):
            BackendPlugin.calls.append(("check", dict(model_args)))
            if model_args.get("refuse"):
                raise UsageError("hook_hf: refused by its check")

        def loader(model_args, device, batch_size):
            BackendPlugin.calls.append(("load", dict(model_args)))
            args = {k: v for k, v in model_args.items() if k != "refuse"}
            return load_hf(args, device, batch_size)

        register("hook_hf", loader, "hf through a plugin", check=check)


class ReportPlugin:
    @hookimpl
    def register_report_writers(self, register):
        def write(output_dir, table, cells):
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt

            top = table[(table["subtask"] == table["task"]) & (table["metric"] == "acc")]
            fig, ax = plt.subplots()
            ax.bar(top["intervention"].astype(str), top["value"].astype(float))
            path = output_dir / "hook_report.png"
            fig.savefig(path)
            plt.close(fig)
            return [path]

        register("hook_report", write)


class ProcessorPlugin:
    @hookimpl
    def register_result_processors(self, register):
        def count_docs(results, task):
            results["hook_docs_seen"] = {name: n["effective"] for name, n in (results.get("n-samples") or {}).items()}
            results["hook_task"] = task.name if task is not None else None

        register("hook_count_docs", count_docs)


PLUGINS = {
    "register_interventions": InterventionsPlugin, "register_task_sources": TaskSourcesPlugin,
    "register_model_aliases": AliasPlugin, "register_backends": BackendPlugin,
    "register_report_writers": ReportPlugin, "register_result_processors": ProcessorPlugin,
}


def test_every_hook_has_a_test_plugin():
    assert set(PLUGINS) == set(SPECS)
    for hook, plugin in PLUGINS.items():
        assert hasattr(plugin, hook), plugin


def _with(hook: str):
    """A fixture: a fresh host with the hook's test plugin registered; unregistered afterwards."""

    @pytest.fixture()
    def fixture():
        host = load_host(entry_points=False)
        name = f"test-{hook}"
        host.pm.register(PLUGINS[hook](), name=name)
        recollect(host)
        assert not host.failures, host.failures
        yield host
        host.pm.unregister(name=name)
        recollect(host)

    return fixture


interventions_host = _with("register_interventions")
tasks_host = _with("register_task_sources")
alias_host = _with("register_model_aliases")
backend_host = _with("register_backends")
report_host = _with("register_report_writers")
processor_host = _with("register_result_processors")


def _run(host, handle, out, tasks="toy_mc", rows=("none",), **extra):
    spec = build_spec({}, {"model_args": "pretrained=tiny", "tasks": tasks, "interventions": list(rows), "limit": 2,
                           "include_path": [str(TOY_TASKS)], **extra})
    return MatrixRunner(spec, host, out, handle=handle, progress=False, log_samples=True).run()


def test_register_interventions_adds_a_row(interventions_host, tiny_handle, tmp_path):
    assert interventions_host.intervention_plugin["hook_tagger"] == "test-register_interventions"
    summary = _run(interventions_host, tiny_handle, tmp_path / "out", rows=("none", "hook_tagger:tag=HOOK"))
    assert ("hook_tagger:tag=HOOK", "toy_mc") in summary.ran
    sample = (tmp_path / "out" / "cells" / "hook_tagger--tag=HOOK" / "samples" / "toy_mc" / "toy_mc.jsonl").read_text()
    assert "[HOOK]" in json.loads(sample.splitlines()[0])["arguments"][0][0]
    interventions_host.pm.unregister(name="test-register_interventions")
    recollect(interventions_host)
    with pytest.raises(UsageError, match="hook_tagger"):
        interventions_host.intervention_class("hook_tagger")


def test_register_task_sources_adds_a_task(tasks_host, tiny_handle, tmp_path):
    assert DICT_TASK in tasks_host.task_sources
    _run(tasks_host, tiny_handle, tmp_path / "out", tasks="hook_dict_task")
    cell = json.loads((tmp_path / "out" / "cells" / "none" / "hook_dict_task.json").read_text())
    assert cell["family"] == "hook_toy" and cell["results"]["n-samples"]["hook_dict_task"]["effective"] == 2
    tasks_host.pm.unregister(name="test-register_task_sources")
    recollect(tasks_host)
    assert DICT_TASK not in tasks_host.task_sources


def test_register_model_aliases_resolves_a_name(alias_host, tiny_model_dir):
    from tom_harness.backends.loading import load, resolve_model_args

    AliasPlugin.target = str(tiny_model_dir)
    args = resolve_model_args(alias_host, {"pretrained": "hook-tiny", "max_length": 128})
    assert args == {"pretrained": str(tiny_model_dir), "max_length": 128, "name": "hook-tiny"}
    handle = load(alias_host, "hf", {"pretrained": "hook-tiny"}, "cpu", 1)
    assert handle.name == "hook-tiny" and handle.model.config.num_hidden_layers == 2
    alias_host.pm.unregister(name="test-register_model_aliases")
    recollect(alias_host)
    with pytest.raises(UsageError, match="unknown model alias 'hook-tiny'"):
        resolve_model_args(alias_host, {"pretrained": "hook-tiny"})


def test_register_backends_serves_model(backend_host, tiny_model_dir):
    from tom_harness.backends.loading import load

    BackendPlugin.calls = []
    handle = load(backend_host, "hook_hf", {"pretrained": str(tiny_model_dir)}, "cpu", 1)
    assert [c[0] for c in BackendPlugin.calls] == ["check", "load"] and handle.model is not None
    with pytest.raises(UsageError, match="refused by its check"):
        load(backend_host, "hook_hf", {"pretrained": str(tiny_model_dir), "refuse": True}, "cpu", 1)
    assert [c[0] for c in BackendPlugin.calls] == ["check", "load", "check"]  # check runs before any load
    backend_host.pm.unregister(name="test-register_backends")
    recollect(backend_host)
    with pytest.raises(UsageError, match="unknown --model 'hook_hf'"):
        backend_host.backend("hook_hf")


def test_register_report_writers_adds_a_report(report_host, tmp_path):
    from tests.test_stats_tables import acc_samples, write_cell
    from tom_harness.results.leaderboard import write_leaderboard

    write_cell(tmp_path, "none", "t", {"t": acc_samples([1, 0, 1, 0])})
    write_cell(tmp_path, "sbs", "t", {"t": acc_samples([1, 1, 1, 0])})
    _, _, files = write_leaderboard([tmp_path], tmp_path, report_host.report_writers)
    png = tmp_path / "hook_report.png"
    assert png in files and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert '<img src="hook_report.png"' in (tmp_path / "leaderboard.html").read_text()
    report_host.pm.unregister(name="test-register_report_writers")
    recollect(report_host)
    assert "hook_report" not in report_host.report_writers


def test_register_result_processors_edits_each_cell(processor_host, tiny_handle, tmp_path):
    _run(processor_host, tiny_handle, tmp_path / "out")
    cell = json.loads((tmp_path / "out" / "cells" / "none" / "toy_mc.json").read_text())
    assert cell["results"]["hook_docs_seen"] == {"toy_mc": 2} and cell["results"]["hook_task"] == "toy_mc"
    assert "hook_count_docs" in cell["metadata"]["result_processors"]
    processor_host.pm.unregister(name="test-register_result_processors")
    recollect(processor_host)
    assert all(p.name != "hook_count_docs" for p in processor_host.result_processors)
