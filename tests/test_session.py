"""One run session for ``run``, ``prompts`` and ``tomh``; lm-eval patched once per process and
restored."""
from __future__ import annotations

import lm_eval
import lm_eval.evaluator as ev
from lm_eval.tasks import TaskManager

from tom_harness.lmeval import patches
from tom_harness.lmeval.wrapper import InterventionLM
from tom_harness.run.session import PromptOptions, open_session
from tests.test_runner import TOY_TASKS, toy_data  # noqa: F401  (fixture)


def test_patches_install_once_and_restore_the_originals():
    was = patches.installed()
    patches.restore()
    own_hash, own_evaluate = ev.get_git_commit_hash, ev.evaluate
    with patches.patched():
        assert ev.get_git_commit_hash is patches.quiet_git_hash and ev.evaluate is not own_evaluate
        wrapped = ev.evaluate
        with patches.patched():  # nested: neither installs again nor restores on leaving
            patches.install()
            assert ev.evaluate is wrapped
        assert ev.evaluate is wrapped and patches.installed()
    assert ev.get_git_commit_hash is own_hash and ev.evaluate is own_evaluate and not patches.installed()
    if was:
        patches.install()


class _Inner:
    """An inner model that happens to have the hook names: the wrapper must not forward them."""

    def __init__(self) -> None:
        self.called: list[str] = []

    def evaluation_starts(self, options):  # pragma: no cover - must never run
        self.called.append("starts")


class _Own(InterventionLM):
    def evaluation_starts(self, options):
        self.seen = options


def test_evaluate_wrapper_tells_only_models_that_define_the_hooks():
    seen = []
    wrapped = patches._evaluate_wrapper(lambda lm, **kw: seen.append(kw) or {"results": {}})
    inner = _Inner()
    wrapped(InterventionLM(inner), apply_chat_template=True)
    assert inner.called == [] and len(seen) == 1
    own = _Own(inner)
    wrapped(own, apply_chat_template=True, system_instruction="Be brief.")
    assert own.seen == {"apply_chat_template": True, "system_instruction": "Be brief."}


def test_tomh_model_calls_render_as_a_run_with_the_same_options(tiny_model_dir, tiny_handle, tmp_path):
    """``tomh`` learns lm-eval's --apply_chat_template/--system_instruction when evaluation starts;
    its caller then renders a model call exactly as ``tom-harness run``'s caller does."""
    from tom_harness.run.tomh_model import TomhLM

    lm = TomhLM(pretrained=str(tiny_model_dir), intervention="sbs", device="cpu", cache_dir=str(tmp_path / "c"))
    assert lm.session.wrapper is lm and lm.ctx is lm.session.ctx and lm.session.caller.apply_chat_template is False
    lm_eval.simple_evaluate(model=lm, tasks=["toy_gen"], limit=1, bootstrap_iters=0, apply_chat_template=True,
                            system_instruction="Be brief.",
                            task_manager=TaskManager(include_path=str(TOY_TASKS), include_defaults=False))
    run = open_session(tiny_handle, PromptOptions(True, "Be brief."), cache=None)
    prompt = "Where will Anna look for the ball?"
    rendered = lm.session.caller.render(prompt)
    assert rendered == run.caller.render(prompt)
    assert rendered.startswith("<|im_start|>system\nBe brief.") and prompt in rendered
