"""Training data: an ``export`` (SFT), ``export --pairs`` (DPO), or a replay file of teacher outputs.

Each file is turned into TRL's own dataset rows (prompt/completion for SFT; prompt/chosen/rejected
for DPO; chat message lists when the run used a chat template, so TRL re-applies the template and
the loss falls on the answer only), plus what the card needs: the file's sha256, the training
items' keys (task, doc_id, doc_hash) for the contamination guard, and the runs, rows and tasks the
lines came from.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from tom_harness.api.errors import UsageError
from tom_harness.cache.artifacts import file_sha256

PAIR_KEYS = ("prompt", "chosen", "rejected")
REPLAY_KEYS = ("task", "doc", "response")


@dataclass
class TrainData:
    path: Path
    sha256: str
    kind: str  # "export", "pairs" or "replay"
    rows: list[dict[str, Any]]  # TRL dataset rows
    keys: list[dict[str, Any]] = field(default_factory=list)  # one per distinct training item
    sources: dict[str, list[str]] = field(default_factory=dict)

    def card(self) -> dict[str, Any]:
        """The ``data`` section of the adapter card."""
        return {"path": str(self.path.resolve()), "sha256": self.sha256, "kind": self.kind,
                "examples": len(self.rows), **self.sources, "items": self.keys}


def read_lines(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise UsageError(f"train: --data {path} does not exist (make it with `tom-harness export RUN --rows ... --dest FILE`)")
    lines = []
    for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not text.strip():
            continue
        try:
            lines.append(json.loads(text))
        except ValueError as exc:
            raise UsageError(f"train: {path} line {n} is not JSON ({exc})") from None
    if not lines:
        raise UsageError(f"train: {path} holds no examples")
    return lines


def kind_of(line: dict[str, Any]) -> str:
    if all(k in line for k in PAIR_KEYS):
        return "pairs"
    if "messages" in line or ("prompt" in line and "completion" in line):
        return "export"
    if all(k in line for k in REPLAY_KEYS):
        return "replay"
    raise UsageError("train: an example has neither messages, prompt/completion (export), prompt/chosen/rejected "
                     f"(export --pairs) nor task/doc/response (replay); its keys: {', '.join(sorted(line))}")


def sft_row(line: dict[str, Any]) -> dict[str, Any]:
    """Prompt/completion for TRL; chat messages split into the prompt turns and the answer turn."""
    if "messages" in line:
        msgs = line["messages"]
        if not msgs or msgs[-1].get("role") != "assistant":
            raise UsageError("train: a chat example must end with the assistant's message")
        return {"prompt": msgs[:-1], "completion": msgs[-1:]}
    return {"prompt": line["prompt"], "completion": line["completion"]}


def read_data(path: Path, method: str, render: Callable[[Path], list[dict]] | None = None) -> TrainData:
    """Read ``path`` for ``method``; ``render`` turns replay lines into export lines (prompts from
    the task's documents), needed only for replay files."""
    lines = read_lines(path)
    kind = kind_of(lines[0])
    if any(kind_of(line) != kind for line in lines):
        raise UsageError(f"train: {path} mixes example formats; keep one kind per file")
    if method == "dpo" and kind != "pairs":
        raise UsageError(f"train dpo: {path} holds {kind} examples, not preference pairs; "
                         "make them with `tom-harness export RUN --rows ROW --tasks T --pairs` on a --repeats run")
    if method == "sft" and kind == "pairs":
        raise UsageError(f"train sft: {path} holds preference pairs; train them with `train dpo`, "
                         "or export answers without --pairs")
    if kind == "replay":
        if render is None:
            raise UsageError("train: replay files need the task data to render prompts")
        lines = render(path)
    rows = [{k: line[k] for k in PAIR_KEYS} for line in lines] if kind == "pairs" else [sft_row(x) for x in lines]
    return TrainData(path, file_sha256(path), kind, rows, item_keys(lines), sources(lines))


def item_keys(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The distinct (task, doc_id, doc_hash) of the lines, in order (lines without a task are skipped)."""
    seen: dict[tuple, dict[str, Any]] = {}
    for line in lines:
        if line.get("task") is None:
            continue
        key = {"task": line["task"], "doc_id": line.get("doc_id"), "doc_hash": line.get("doc_hash")}
        seen.setdefault((key["task"], key["doc_id"], key["doc_hash"]), key)
    return list(seen.values())


def sources(lines: list[dict[str, Any]]) -> dict[str, list[str]]:
    """The runs, rows and tasks the lines came from (as ``export`` recorded them)."""
    out: dict[str, list[str]] = {}
    for name, field_ in (("runs", "run"), ("rows", "row"), ("tasks", "task")):
        out[name] = sorted({str(line[field_]) for line in lines if line.get(field_) is not None})
    return out
