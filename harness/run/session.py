"""One run session: the pieces every evaluation of interventions needs, built in one place.

A session is the loaded model's handle, the artifact cache, the :class:`ModelCaller` through
which interventions call the model (cached generations, rendered with the run's chat template
and system instruction), the :class:`RunContext` handed to every intervention, and the
:class:`InterventionLM` that splices prompt edits into lm-eval's requests. ``tom-harness run``
(:mod:`runner`), ``tom-harness prompts`` (:mod:`dryrun`) and the lm-eval model type ``tomh``
(:mod:`tomh_model`) all build theirs with :func:`open_session`, so they cannot drift apart.

Opening a session also installs the harness's lm-eval patches (:mod:`tom_harness.lmeval.patches`,
once per process, undone at exit).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from tom_harness.api.context import RunContext
from tom_harness.api.intervention import TaskInfo
from tom_harness.backends.caller import GenerationStore, ModelCaller
from tom_harness.cache.artifacts import ArtifactCache
from tom_harness.lmeval import patches
from tom_harness.lmeval.wrapper import InterventionLM


@dataclass(frozen=True)
class PromptOptions:
    """How prompts are rendered and sampled: the run's chat template, system instruction, seed."""

    apply_chat_template: bool | str = False
    system_instruction: str | None = None
    seed: int = 0

    @classmethod
    def of(cls, spec: Any) -> "PromptOptions":
        """The options of a :class:`~tom_harness.spec.matrix.MatrixSpec`."""
        return cls(spec.apply_chat_template, spec.system_instruction, spec.seed)


class SessionCaller(ModelCaller):
    """The session's caller: the model fingerprint (a cache-key part) is read from the handle
    when first needed, so a dry run that makes no model calls never loads the weights."""

    handle: Any = None

    def _key(self, text: str, gen_kwargs: dict) -> str:
        if not self.model_fingerprint:
            self.model_fingerprint = self.handle.fingerprint
        return super()._key(text, gen_kwargs)


@dataclass
class RunSession:
    handle: Any
    cache: ArtifactCache
    caller: ModelCaller
    ctx: RunContext
    wrapper: InterventionLM

    def render_like(self, apply_chat_template: bool | str, system_instruction: str | None) -> None:
        """Render the interventions' model calls as lm-eval renders this evaluation's requests
        (``tomh`` learns these options only when lm-eval starts evaluating)."""
        self.caller.apply_chat_template = apply_chat_template
        self.caller.system_instruction = system_instruction


def open_session(
    handle: Any, options: PromptOptions = PromptOptions(), *, cache: ArtifactCache | None = None,
    task_info: Callable[[str], TaskInfo] | None = None, show_progress: bool = True,
    output_dir: Path | None = None, requests_to: Any = None, calls_to: Any = None,
    store_calls: bool = True, fingerprint: str = "", wrapper: InterventionLM | None = None,
) -> RunSession:
    """Build a session around ``handle``.

    ``requests_to`` is the lm-eval model the wrapper forwards task requests to and ``calls_to``
    the one the caller generates with (both default to ``handle.lm``; the dry run records
    requests and loads the weights only for model calls). ``store_calls``: keep the model calls'
    answers in the cache's generation store; ``fingerprint``: the model part of their cache keys
    (default: the handle's, read at the first call). ``wrapper`` is wired instead of a new
    :class:`InterventionLM` (``tomh`` is one)."""
    patches.install()
    cache = cache or ArtifactCache()
    caller = SessionCaller(
        calls_to if calls_to is not None else handle.lm,
        GenerationStore(cache.root / "generations.sqlite") if store_calls else None, fingerprint,
        apply_chat_template=options.apply_chat_template, system_instruction=options.system_instruction,
    )
    caller.handle = handle
    ctx = RunContext(handle=handle, cache=cache, caller=caller, seed=options.seed,
                     show_progress=show_progress, output_dir=output_dir)
    if wrapper is None:
        wrapper = InterventionLM(requests_to if requests_to is not None else handle.lm)
    wrapper.ctx = ctx
    wrapper.sample_seed = options.seed
    if task_info is not None:
        wrapper.task_info = task_info
    return RunSession(handle, cache, caller, ctx, wrapper)
