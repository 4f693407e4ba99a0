"""``tom-harness prompts``: write the exact prompt every document would get, without evaluating.

The dry run goes through the very path a run takes (its session is built by
:func:`~tom_harness.run.session.open_session`, as the run's): ``lm_eval.simple_evaluate`` builds each
task's requests (few-shot, chat template, system instruction) with the run's own arguments
(:func:`tom_harness.run.plan.evaluate_kwargs`), and :class:`~tom_harness.lmeval.wrapper.InterventionLM`
splices the prompt intervention's edits into them. Only the backend is replaced, by a recorder
that keeps each request's final context and answers with placeholders, so a dry-run prompt and
the prompt a run sends cannot disagree.

Model weights load only when an intervention asks for a model call (e.g. ``enigma:nkb=prompted``
or ``simtom``; through ``ctx.caller``, cached as in a run); otherwise the tokenizer alone is loaded
(for the chat template; for ``smollm2-135m`` from its GGUF file). Weight and activation
interventions do not change prompts: their rows show the task's prompts with no edit info; a
stacked row (``grad_mask:m=1e-5+cot``) shows the edits and generation budget of its prompt parts
(:func:`~tom_harness.host.stack.prompt_parts`), exactly as the run sends them.
"""
from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any, Callable

from lm_eval.api.model import LM, TemplateLM
from lm_eval.models.huggingface import HFLM

from tom_harness.cache.artifacts import ArtifactCache
from tom_harness.backends.stub import RecordedLM, load_answers
from tom_harness.host.stack import prompt_parts
from tom_harness.lmeval import patches
from tom_harness.spec.matrix import MatrixSpec
from tom_harness.run.plan import evaluate_kwargs, expand_interventions, plan_cells
from tom_harness.run.session import PromptOptions, RunSession, open_session
from tom_harness.host.plugin_host import PluginHost
from tom_harness.lmeval.tasks import TaskCatalog

log = logging.getLogger("tom_harness")


class PromptRecorder(LM):
    """A backend that records request contexts instead of running them (placeholder answers).

    Chat templating is HFLM's own code on the model's tokenizer, as in an ``hf`` run."""

    chat_template = TemplateLM.chat_template
    apply_chat_template = HFLM.apply_chat_template
    tokenizer_name = HFLM.tokenizer_name

    def __init__(self, tokenizer: Any, chat_template_args: dict | None = None) -> None:
        super().__init__()
        self.tokenizer = tokenizer
        self.chat_template_args = dict(chat_template_args or {})
        self.records: list[Any] = []

    def loglikelihood(self, requests, disable_tqdm: bool = False):
        self.records += requests
        return [(0.0, False)] * len(requests)

    def loglikelihood_rolling(self, requests, disable_tqdm: bool = False):
        self.records += requests
        return [0.0] * len(requests)

    def generate_until(self, requests, disable_tqdm: bool = False):
        self.records += requests
        return [""] * len(requests)


class LazyHandle:
    """A :class:`ModelHandle` stand-in that loads the model on first use of anything but its
    name, backend, arguments and tokenizer."""

    def __init__(self, load: Callable[[], Any], name: str, backend: str, model_args: dict, tokenizer: Any) -> None:
        self._load, self._real = load, None
        self.name, self.backend, self.model_args, self.tokenizer = name, backend, model_args, tokenizer

    @property
    def loaded(self) -> bool:
        return self._real is not None

    def real(self) -> Any:
        if self._real is None:
            log.info("an intervention needs model calls: loading %s", self.name)
            self._real = self._load()
        return self._real

    def __getattr__(self, attr: str) -> Any:  # lm, model, fingerprint, apply_to_model, device, ...
        if attr.startswith("_"):
            raise AttributeError(attr)
        return getattr(self.real(), attr)


class _LazyLM:
    """What :class:`ModelCaller` calls: templates from the tokenizer, generations from the model."""

    def __init__(self, handle: LazyHandle, recorder: PromptRecorder) -> None:
        self.handle, self.tokenizer = handle, handle.tokenizer
        self.apply_chat_template = recorder.apply_chat_template

    def generate_until(self, requests, disable_tqdm: bool = False):
        return self.handle.real().lm.generate_until(requests, disable_tqdm=disable_tqdm)


def load_tokenizer(host: PluginHost, model_args: dict) -> tuple[Any, dict]:
    """The tokenizer a run of ``model_args`` would use, without the weights."""
    from transformers import AutoTokenizer

    from tom_harness.backends.loading import resolve_model_args

    args = resolve_model_args(host, model_args)
    path = os.path.expanduser(str(args["pretrained"]))  # as models.load_hf
    tok_path = args.get("tokenizer") or path
    common = {k: args[k] for k in ("revision", "trust_remote_code", "subfolder") if k in args}
    gguf = args.get("gguf_file") if tok_path == path else None
    return AutoTokenizer.from_pretrained(tok_path, gguf_file=gguf, **common), args


def _row(req: Any, info: Any) -> dict[str, Any]:
    args = list(req.arguments)
    row: dict[str, Any] = {"doc_id": req.doc_id, "task": req.task_name, "request_type": req.request_type,
                           "prompt": args[0]}
    if req.request_type == "generate_until" and len(args) > 1:
        row["gen_kwargs"] = dict(args[1])
    if info is not None:
        row["edit"] = info
    return row


def collect(requests: list[Any]) -> list[dict[str, Any]]:
    """One row per document: its prompt (loglikelihood: the shared context and every
    continuation) and the intervention's edit info."""
    rows: dict[tuple[str, int], dict[str, Any]] = {}
    for req in requests:
        key = (req.task_name, req.doc_id)
        info = req.doc.get("_tomh_edit") if isinstance(req.doc, dict) else None
        if key not in rows:
            rows[key] = _row(req, info)
        if req.request_type == "loglikelihood":
            rows[key].setdefault("continuations", []).append(req.arguments[1])
    return list(rows.values())


def dry_run(spec: MatrixSpec, host: PluginHost, output: Path, cache: ArtifactCache | None = None,
            stub: str | None = None) -> dict[str, Any]:
    """Write ``<output>/<iv-id>/<task>.jsonl`` for every applicable cell; returns a summary.

    ``stub``: answer the interventions' own model calls from a recording (a JSON file, see
    :mod:`tom_harness.backends.stub`) or, with ``"canned"``, with canned answers; the model is
    then never loaded and nothing is cached."""
    with patches.patched():
        return _dry_run(spec, host, Path(output), cache, stub)


def _dry_run(spec: MatrixSpec, host: PluginHost, output: Path, cache: ArtifactCache | None,
             stub: str | None) -> dict[str, Any]:
    from tom_harness.backends.loading import load

    t0, c0 = time.perf_counter(), time.process_time()
    catalog = TaskCatalog.from_sources(host.task_sources, spec.include_path)
    ivs = expand_interventions(host, spec.interventions)
    tokenizer, resolved = load_tokenizer(host, spec.model_args)
    catalog.resolve(spec.tasks)
    recorder = PromptRecorder(tokenizer, resolved.get("chat_template_args"))
    handle = LazyHandle(lambda: load(host, spec.model, spec.model_args, spec.device, spec.batch_size),
                        str(resolved.get("name", "")), spec.model, dict(spec.model_args), tokenizer)
    if stub is None:
        calls: dict[str, Any] = {"calls_to": _LazyLM(handle, recorder)}
    else:
        calls = {"calls_to": RecordedLM(load_answers(stub) if stub != "canned" else None, tokenizer=tokenizer,
                                        apply_chat_template=recorder.apply_chat_template),
                 "store_calls": False, "fingerprint": f"stub:{stub}"}
    session = open_session(handle, PromptOptions.of(spec), cache=cache, task_info=catalog.info, show_progress=False,
                           requests_to=recorder, **calls)
    written, skipped = [], []
    for cell in plan_cells(ivs, spec.tasks, (1, 1)):
        iv = cell.intervention
        if not iv.applies_to(catalog.info(cell.task)):
            skipped.append((iv.label(), cell.task))
            continue
        rows = _record(iv, cell.task, spec, catalog, session, recorder)
        path = output / cell.iv_id / f"{cell.task}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
        warnings = [w for p in prompt_parts(iv) for w in (getattr(p, "metadata", None) or {}).get("warnings", [])]
        written.append({"row": iv.label(), "task": cell.task, "file": str(path), "prompts": len(rows),
                        **({"warnings": warnings} if warnings else {})})
    return {"written": written, "not_applicable": skipped, "model_loaded": handle.loaded,
            "model_calls": session.caller.stats.calls, "wall_s": round(time.perf_counter() - t0, 2),
            "cpu_s": round(time.process_time() - c0, 2)}


def _record(iv: Any, task: str, spec: MatrixSpec, catalog: TaskCatalog, session: RunSession,
            recorder: PromptRecorder) -> list[dict[str, Any]]:
    """One cell's prompts: the row's prompt-editing parts (:func:`prompt_parts`; a stack's weight
    or activation parts change no prompt) prepared and applied, lm-eval run on the recorder."""
    import lm_eval

    ctx, wrapper = session.ctx, session.wrapper
    editing = prompt_parts(iv)
    applied = []
    quiet = logging.getLogger("lm_eval")  # it scores the placeholder answers: its warnings are noise
    level = quiet.level
    try:
        for part in editing:
            part.prepare(ctx)
            part.apply(ctx)
            applied.append(part)
        wrapper.intervention = iv if editing else None
        recorder.records = []
        quiet.setLevel(logging.ERROR)
        lm_eval.simple_evaluate(model=wrapper, tasks=[catalog.load_spec(task)], task_manager=catalog.manager,
                                bootstrap_iters=0, log_samples=False, **evaluate_kwargs(spec))
    finally:
        wrapper.intervention = None
        quiet.setLevel(level)
        for part in reversed(applied):
            part.remove(ctx)
    rows = collect(recorder.records)
    for req in recorder.records:  # docs may be reused by the next cell
        if isinstance(req.doc, dict):
            req.doc.pop("_tomh_edit", None)
    return rows
