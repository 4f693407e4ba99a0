"""Stacked rows ``a+b[+c]``: parsing, expansion, prompt composition, restore checks, n/a, resume."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tom_harness.api.errors import RestoreError, UsageError
from tom_harness.api.hookspecs import hookimpl
from tom_harness.api.intervention import Intervention, PromptEdit, TaskInfo
from tom_harness.results.leaderboard import write_leaderboard
from tom_harness.spec.matrix import build_spec
from tom_harness.api.params import Param
from tom_harness.host.plugin_host import load_host, recollect
from tom_harness.run.runner import MatrixRunner
from tom_harness.host.stack import Stack, compose, split_parts

TOY_TASKS = Path(__file__).parent / "fixtures" / "toy_tasks"
KNOWN = {"none", "sbs", "cot", "grad_mask", "localizer", "enigma", "adapter"}


@pytest.mark.parametrize("text, parts", [
    ("sbs+cot:shots=2", ["sbs", "cot:shots=2"]),
    ("grad_mask:m=1e-5+cot", ["grad_mask:m=1e-5", "cot"]),
    ("grad_mask:m=1e+5+cot", ["grad_mask:m=1e+5", "cot"]),
    ("enigma:mode=ki+im", ["enigma:mode=ki+im"]),
    ("enigma:mode=ki+im,nkb=cache", ["enigma:mode=ki+im,nkb=cache"]),
    ("localizer:pct=1+enigma:mode=im,nkb=cache", ["localizer:pct=1", "enigma:mode=im,nkb=cache"]),
    ("localizer:pct=1+enigma:mode=ki+im+sbs", ["localizer:pct=1", "enigma:mode=ki+im", "sbs"]),
    ("grad_mask:m=[1e+5,2e+5]+sbs", ["grad_mask:m=[1e+5,2e+5]", "sbs"]),
    ("grad_mask:m=0:2e-5:1e-5+cot", ["grad_mask:m=0:2e-5:1e-5", "cot"]),
    ("sbs", ["sbs"]),
])
def test_split_rule(text, parts):
    assert split_parts(text, KNOWN) == parts


def test_split_errors_name_the_culprit():
    with pytest.raises(UsageError, match="cott.*did you mean: cot"):
        split_parts("grad_mask:m=1e-5+cott:shots=2", KNOWN)
    with pytest.raises(UsageError, match="empty part"):
        split_parts("sbs+", KNOWN)


@pytest.fixture(scope="module")
def host():
    h = load_host()
    h.pm.register(StackTestPlugin(), name="stack-test-plugin")
    recollect(h)
    yield h
    h.pm.unregister(name="stack-test-plugin")


def test_rows_expand_inside_a_stack(host):
    rows = host.build_interventions("grad_mask:m=0:2e-5:1e-5+cot")
    assert [r.label() for r in rows] == ["grad_mask:m=0+cot", "grad_mask+cot", "grad_mask:m=2e-05+cot"]
    assert all(isinstance(r, Stack) and r.kind == "weights+prompts" for r in rows)
    (row,) = host.build_interventions("sbs+cot:shots=2")
    assert row.kind == "prompts" and row.values == {"sbs": row.parts[0].values, "cot": row.parts[1].values}
    with pytest.raises(UsageError, match="given twice"):
        host.build_interventions("sbs+sbs")
    with pytest.raises(UsageError, match="'none' cannot be stacked"):
        host.build_interventions("none+sbs")
    with pytest.raises(UsageError, match="unknown intervention 'cott'"):
        host.build_interventions("sbs+cott")
    with pytest.raises(UsageError, match="cot: unknown parameter 'shot'"):
        host.build_interventions("sbs+cot:shot=2")


def test_replicates_and_group_label(host):
    rows = host.build_interventions("localizer:select=random,seeds=0:2+sbs")
    assert [r.label() for r in rows] == ["localizer:select=random,seeds=0+sbs", "localizer:select=random,seeds=1+sbs"]
    assert {r.group_label() for r in rows} == {"localizer:select=random+sbs"}
    assert rows[0].replicate_params() == ["localizer.seeds"]


def _iv(label: str) -> Intervention:
    iv = Intervention()
    iv.label = lambda: label  # type: ignore[method-assign]
    return iv


def test_compose_field_by_field():
    a = PromptEdit(instruction="Let's think step by step.", gen_kwargs={"max_gen_toks": 64}, info={"x": 1})
    b = PromptEdit(preamble="Example.", instruction="Reason, then answer.", gen_kwargs={"max_gen_toks": 64})
    c = PromptEdit(narrative="short story", question="Where?")
    out = compose([(_iv("sbs"), a), (_iv("cot"), b), (_iv("enigma"), c)])
    assert out.instruction == "Let's think step by step.\nReason, then answer."
    assert out.preamble == "Example." and out.narrative == "short story" and out.question == "Where?"
    assert out.gen_kwargs == {"max_gen_toks": 64} and out.info == {"sbs": {"x": 1}}
    assert compose([(_iv("sbs"), None)]) is None
    with pytest.raises(UsageError, match="simtom and enigma both rewrite the narrative"):
        compose([(_iv("simtom"), PromptEdit(narrative="a")), (_iv("enigma"), c)])
    with pytest.raises(UsageError, match="sbs sets max_gen_toks=64 and cot sets max_gen_toks=512"):
        compose([(_iv("sbs"), a), (_iv("cot"), PromptEdit(gen_kwargs={"max_gen_toks": 512}))])


# -- end to end on the tiny model ------------------------------------------------------------------
class Nudge(Intervention):
    """Adds ``delta`` to one weight; restores it unless ``restore=false``; logs its order."""

    name = "nudge"
    kind = "weights"
    params = (Param("delta", "float", 1.0), Param("restore", "bool", True))
    log: list[str] = []

    @staticmethod
    def _w(model):
        return model.model.layers[0].mlp.down_proj.weight

    def apply(self, ctx):
        Nudge.log.append("apply nudge")
        self._old = ctx.handle.apply_to_model(lambda m: self._w(m).data[0, 0].clone())[0]
        ctx.handle.apply_to_model(lambda m: self._w(m).data[0, 0].add_(self.values["delta"]))

    def remove(self, ctx):
        Nudge.log.append("remove nudge")
        if self.values["restore"]:
            ctx.handle.apply_to_model(lambda m: self._w(m).data.__setitem__((0, 0), self._old))


class Hooked(Intervention):
    """An activations part: a forward hook that must be gone after the cell."""

    name = "hooked"
    kind = "activations"
    requires = {"unit": "event"}

    def apply(self, ctx):
        Nudge.log.append("apply hooked")
        self._h = ctx.handle.apply_to_model(lambda m: m.model.layers[1].register_forward_hook(lambda *a: None))[0]

    def remove(self, ctx):
        Nudge.log.append("remove hooked")
        self._h.remove()


class StackTestPlugin:
    @hookimpl
    def register_interventions(self, register):
        register(Nudge)
        register(Hooked)


@pytest.fixture(autouse=True)
def toy_data(tmp_path_factory, monkeypatch):
    path = tmp_path_factory.mktemp("toy") / "toy.jsonl"
    rows = [{"narrative": f"Anna put the ball in box {i}. Anna left. Bob moved the ball to the basket.",
             "question": "Where will Anna look for the ball?", "choices": ["box", "basket"], "label": 0}
            for i in range(4)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    monkeypatch.setenv("TOY_TASK_DATA", str(path))


def _runner(host, handle, out, interventions, tasks="toy_gen,toy_other", **kw):
    spec = build_spec({}, {"model_args": "pretrained=tiny", "tasks": tasks, "interventions": interventions,
                           "limit": 2, "include_path": [str(TOY_TASKS)]})
    return MatrixRunner(spec, host, out, handle=handle, progress=False, **kw)


def test_stack_runs_checks_and_resumes(host, tiny_handle, tmp_path):
    out = tmp_path / "out"
    Nudge.log.clear()
    rows = ["none", "nudge:delta=0.5+hooked+sbs"]
    summary = _runner(host, tiny_handle, out, rows, log_samples=True).run()
    assert ("nudge:delta=0.5+hooked+sbs", "toy_other") in summary.not_applicable
    assert Nudge.log == ["apply nudge", "apply hooked", "remove hooked", "remove nudge"]
    iv_dir = out / "cells" / "nudge--delta=0.5+hooked+sbs"
    cell = json.loads((iv_dir / "toy_gen.json").read_text())
    assert cell["intervention"]["kind"] == "weights+activations+prompts"
    assert cell["metadata"]["restore_check"]["ok"] and cell["metadata"]["requests"]["prompt_edits"] == 2
    assert cell["metadata"]["stack"] == ["nudge:delta=0.5", "hooked", "sbs"]
    na = json.loads((iv_dir / "toy_other.json").read_text())
    assert na["metadata"]["reason"] == ("hooked does not apply to toy_other: the task does not declare trait 'unit' "
                                        "(needs unit=event) (part of nudge:delta=0.5+hooked+sbs)")
    sample = json.loads((iv_dir / "samples" / "toy_gen" / "toy_gen.jsonl").read_text().splitlines()[0])
    assert "Where will Anna look for the ball?\nLet's think step by step." in sample["arguments"][0][0]
    assert _runner(host, tiny_handle, out, rows).run().ran == []
    table, pivot, _ = write_leaderboard([out], out)
    assert "nudge:delta=0.5+hooked+sbs" in set(table.intervention)


def test_stack_restore_failure_names_the_stack(host, tiny_handle, tmp_path):
    with pytest.raises(RestoreError, match=r"nudge:restore=false\+sbs did not restore.*down_proj"):
        _runner(host, tiny_handle, tmp_path / "o", ["nudge:restore=false+sbs"], tasks="toy_gen").run()


def test_matrix_yaml_accepts_stacks(host, tiny_handle, tmp_path):
    from tom_harness.spec.matrix import load_config

    cfg = tmp_path / "m.yaml"
    cfg.write_text("interventions: [none, 'nudge:delta=0:2:1+sbs']\ntasks: [toy_gen]\nlimit: 1\n"
                   f"include_path: [{TOY_TASKS}]\nmodel_args: {{pretrained: tiny}}\n")
    spec = build_spec(load_config(cfg), {})
    runner = MatrixRunner(spec, host, tmp_path / "o", handle=tiny_handle, progress=False)
    assert [c.intervention.label() for c in runner.prepare_plan()] == ["none", "nudge:delta=0+sbs", "nudge+sbs", "nudge:delta=2+sbs"]
