"""``tom-harness export``: a finished run's prompts and answers as a fine-tuning set (SFT JSONL).

Lore et al.'s loop: run the large model with ``--log_samples``, export its answers, fine-tune a
small model elsewhere, evaluate the adapter as a row (``adapter:path=...``), and measure agreement
with ``tom-harness compare``.

Each line is one answer:

* ``{"prompt": ..., "completion": ...}``: the exact text the model saw (prompt edits and all)
  and what it generated (``generate_until``) or the choice it ranked first (multiple choice);
* ``{"messages": [{"role": "system"?}, {"role": "user"}, {"role": "assistant"}]}`` when the run
  applied a chat template: the prompt is split back into messages with the tokenizer's own
  template (rendered around sentinels), so a trainer re-applying the template gets the same text;
* plus ``task``, ``doc_id``, ``repeat``, ``correct``, ``row`` for filtering.

It reads the per-item samples a run writes with ``--log_samples``; without them it stops with
the command that makes them.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Iterator

from tom_harness.results.outdir import OutputDir, atomic_write_text, iter_cells
from tom_harness.api.errors import UsageError, closest

FORMATS = ("sft-jsonl",)
SENTINEL_U, SENTINEL_S = "\x00TOMH_USER\x00", "\x00TOMH_SYSTEM\x00"


def find_cells(out: Path, rows: list[str], tasks: list[str]) -> list[dict]:
    """The finished cells of ``rows`` (labels, ids, display labels or specs, see
    :mod:`.row_names`) x ``tasks``; unknown names fail with a hint."""
    from tom_harness.results.row_names import RowIndex, manifest_specs

    cells = [c for c in iter_cells([out]) if c.get("status") == "ok"]
    index = RowIndex(cells, manifest_specs([out]))
    names = {c["task"] for c in cells}
    labels = set()
    for row in rows:
        label = index.lookup(row, str(out))
        if label is None:
            raise UsageError(f"export: no finished row {row!r} in {out}" + _hint(row, index.labels()))
        labels.add(label)
    for task in tasks:
        if task not in names:
            raise UsageError(f"export: no finished task {task!r} in {out}" + _hint(task, names))
    return [c for c in cells if c["intervention"]["label"] in labels and c["task"] in tasks]


def _hint(name: str, valid: Iterable[str]) -> str:
    hint = closest(name, valid)
    return f"; did you mean {hint[0]!r}?" if hint else f"; present: {', '.join(sorted(valid)[:8])}"


def sample_rows(out: Path, cell: dict) -> Iterator[dict]:
    folder = OutputDir(out).samples_dir(cell["intervention"]["id"], cell["task"])
    files = sorted(folder.glob("*.jsonl")) if folder.is_dir() else []
    if not files:
        raise UsageError(
            f"export: {folder} has no samples; the run was made without --log_samples. Rerun the same "
            "matrix with --log_samples into a new --output_path (finished cells are not rerun in place)")
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                yield json.loads(line)


def answers(sample: dict, metric: str | None) -> list[dict]:
    """(prompt, completion, repeat, correct) of one sample row: one per repeat for generation."""
    args = sample.get("arguments") or []
    resps = sample.get("resps") or []
    if not args:
        return []
    if len(args) == 1 and isinstance(args[0][1], dict):  # generate_until: [[context, gen_kwargs]]
        outs = resps[0] if resps else []
        return [{"prompt": args[0][0], "completion": text, "repeat": k, "correct": _correct(sample, metric, k, len(outs))}
                for k, text in enumerate(outs)]
    lls = [r[0][0] if isinstance(r[0], (list, tuple)) else r[0] for r in resps]  # multiple choice
    best = max(range(len(lls)), key=lambda i: lls[i])
    return [{"prompt": args[best][0], "completion": args[best][1], "repeat": 0, "correct": _correct(sample, metric, 0, 1)}]


def _correct(sample: dict, metric: str | None, k: int, n: int) -> bool | None:
    if metric is None:
        return None
    value = sample.get(f"{metric}_r{k}") if n > 1 else sample.get(metric)
    if value is None and n > 1 and k == 0:
        value = sample.get(metric)
    return None if value is None else float(value) >= 1.0


def pick_metric(cell: dict, sample: dict, wanted: str | None) -> str | None:
    """The metric that says whether an answer is right: --metric, the task's headline, acc, exact_match."""
    for name in (wanted, cell.get("headline_metric"), "acc", "exact_match"):
        if name and name in sample:
            return name
    if wanted:
        raise UsageError(f"export: --metric {wanted!r} is not in the samples of {cell['task']}; present: "
                         + ", ".join(sorted(k for k, v in sample.items() if isinstance(v, (int, float)))))
    return None


class ChatSplitter:
    """Split a rendered chat prompt back into messages, learning the template around sentinels."""

    def __init__(self, tokenizer: Any, system: str | None) -> None:
        self.system = system
        history = [{"role": "user", "content": SENTINEL_U}]
        if system:
            history = [{"role": "system", "content": SENTINEL_S}] + history
        rendered = tokenizer.apply_chat_template(history, tokenize=False, add_generation_prompt=True)
        if system:
            head, rest = rendered.split(SENTINEL_S, 1)
            mid, tail = rest.split(SENTINEL_U, 1)
            self.parts = (head, mid, tail)
        else:
            head, tail = rendered.split(SENTINEL_U, 1)
            self.parts = (head, tail)

    def messages(self, prompt: str, completion: str) -> list[dict[str, str]]:
        head, tail = self.parts[0], self.parts[-1]
        if not (prompt.startswith(head) and prompt.endswith(tail)):
            raise UsageError("export: a prompt does not follow the model's chat template (few-shot as multi-turn?); "
                             "cannot recover its messages")
        body = prompt[len(head): len(prompt) - len(tail)]
        out = []
        if self.system:
            system, sep, body = body.partition(self.parts[1])
            if not sep:
                raise UsageError("export: a prompt lacks the system message the run was configured with")
            out.append({"role": "system", "content": system})
        return out + [{"role": "user", "content": body}, {"role": "assistant", "content": completion}]


def _splitter(out: Path) -> ChatSplitter | None:
    manifest = OutputDir(out).read_manifest() or {}
    spec = manifest.get("spec") or {}
    if not spec.get("apply_chat_template"):
        return None
    from transformers import AutoTokenizer

    from tom_harness.backends.loading import resolve_model_args
    from tom_harness.host.plugin_host import get_host

    args = resolve_model_args(get_host(), spec.get("model_args") or {"pretrained": "smollm2-135m"})
    path = args.get("tokenizer") or args["pretrained"]
    gguf = args.get("gguf_file") if path == args["pretrained"] else None
    tok = AutoTokenizer.from_pretrained(str(Path(str(path)).expanduser()) if Path(str(path)).expanduser().exists() else path,
                                        gguf_file=gguf)
    return ChatSplitter(tok, spec.get("system_instruction"))


def export(out: Path, rows: list[str], tasks: list[str], dest: Path | None = None, fmt: str = "sft-jsonl",
           correct_only: bool = False, metric: str | None = None) -> tuple[Path, int]:
    """Write the JSONL; returns (path, number of lines)."""
    if fmt not in FORMATS:
        raise UsageError(f"export: unknown --format {fmt!r}; valid: {', '.join(FORMATS)}")
    if not (out / "cells").is_dir():
        raise UsageError(f"export: {out} has no cells/ folder: not a tom-harness output directory")
    cells = find_cells(out, rows, tasks)
    splitter = _splitter(out)
    lines: list[str] = []
    for cell in cells:
        chosen: str | None = None
        for n, sample in enumerate(sample_rows(out, cell)):
            if n == 0:
                chosen = pick_metric(cell, sample, metric)
                if correct_only and chosen is None:
                    raise UsageError(f"export: --correct_only needs a 0/1 metric; give --metric for {cell['task']}")
            for ans in answers(sample, chosen):
                if correct_only and not ans["correct"]:
                    continue
                record: dict[str, Any] = (
                    {"messages": splitter.messages(ans["prompt"], ans["completion"])} if splitter
                    else {"prompt": ans["prompt"], "completion": ans["completion"]})
                record.update(task=cell["task"], doc_id=sample.get("doc_id"), repeat=ans["repeat"],
                              correct=ans["correct"], row=cell["intervention"]["label"])
                lines.append(json.dumps(record, ensure_ascii=False))
    if not lines:
        raise UsageError("export: nothing to write (no answers" + (" answered correctly" if correct_only else "") + ")")
    dest = dest or out / "export" / f"{'_'.join(c['intervention']['id'] for c in cells[:1])}.sft.jsonl"
    atomic_write_text(dest, "\n".join(lines) + "\n")
    return dest, len(lines)
